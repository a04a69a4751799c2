-- A derived read copy of each pathway's view (api/read_copy.py): the view as the workflow's query answered
-- it, with the places in Temporal history it was read at (the pathway's run and history length, and those of
-- the child whose state the view shows). It is served only while Temporal describes the same places, so the
-- workflow stays the only source: a row that does not match is never served, whatever it holds. A closed
-- pathway's copy goes when the namespace's retention deletes its history (api/copy_retention.py).
create table pathway_view_copies (
    pathway_id text primary key,
    run_id text not null,
    history_length bigint not null,
    child_id text,
    child_run_id text,
    child_history_length bigint,
    view_json text not null,
    closed_at timestamptz,
    stored_at timestamptz not null default now()
);
create index pathway_view_copies_expiry on pathway_view_copies (coalesce(closed_at, stored_at));
