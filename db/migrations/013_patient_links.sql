-- The links patients answer from (`/p/{token}`): one row per link, bound to one pathway. The token itself is
-- never stored: it is the row's id and expiry sealed with the `patient_links` secret (domain/link_tokens.py).
create table patient_links (
    link_id uuid primary key,
    pathway_id text not null,
    patient_ref uuid not null references patients (patient_ref),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    revoked_at timestamptz
);
create index patient_links_pathway on patient_links (pathway_id, expires_at);

-- One row per answer form the page rendered and the patient sent: a second submit of the same form (a double
-- tap, a reload of the POST) finds its row and is answered from it, never recorded twice.
create table patient_link_answers (
    answer_id uuid primary key,
    link_id uuid not null references patient_links (link_id),
    question text not null,
    workflow_id text not null,
    red_flags boolean not null default false,
    created_at timestamptz not null default now(),
    recorded_at timestamptz
);

insert into signing_secrets (purpose, secret)
values
    ('patient_links', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')),
    ('demo_sessions', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
