-- A derived read copy of each pathway's view (api/read_copy.py): the view as the workflow's query answered
-- it, with the places in Temporal history it was read at (the pathway's run and history length, and those of
-- the child whose state the view shows) and the version of the view it was read as. It is served only while
-- Temporal describes the same places and the API reads the same version, so the workflow stays the only
-- source: a row that does not match is never served, whatever it holds. The view is clinical: it is kept
-- encrypted by the payload codec, as in Temporal's history. A closed pathway's copy goes when the namespace's
-- retention deletes its history (api/read_copy_retention.py).
create table pathway_view_copies (
    pathway_id text primary key,
    run_id text not null,
    history_length bigint not null,
    child_id text,
    child_run_id text,
    child_history_length bigint,
    view_version text not null,
    view_payload bytea not null,
    closed_at timestamptz,
    stored_at timestamptz not null default now()
);
create index pathway_view_copies_expiry on pathway_view_copies (coalesce(closed_at, stored_at));
