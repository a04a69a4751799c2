-- Clinics, their resources and opening hours, and how long each appointment kind takes.
create table clinics (
    site text primary key,
    name text not null,
    timezone text not null
);

create table resources (
    resource_id text primary key,
    clinic_site text not null references clinics (site),
    kind text not null,
    name text not null
);

create table resource_hours (
    resource_id text not null references resources (resource_id) on delete cascade,
    weekday smallint not null check (weekday between 0 and 6),
    opens time not null,
    closes time not null check (opens < closes),
    primary key (resource_id, weekday, opens)
);

create table appointment_kinds (
    clinic_site text not null references clinics (site),
    kind text not null check (kind in ('mri', 'exam', 'block', 'dvr')),
    duration interval not null,
    buffer_before interval not null default '0',
    buffer_after interval not null default '0',
    resource_kinds text[] not null check (cardinality(resource_kinds) > 0),
    lead_time interval not null default '0',
    latest_start_local time,
    primary key (clinic_site, kind)
);

-- One row per booking; (pathway_id, kind, attempt) makes a retried booking find the first one.
create table appointments (
    appointment_id uuid primary key default gen_random_uuid(),
    pathway_id text not null,
    clinic_site text not null references clinics (site),
    kind text not null,
    attempt integer not null check (attempt >= 1),
    starts_at timestamptz not null,
    ends_at timestamptz not null,
    status text not null default 'booked' check (status in ('booked', 'arrived', 'noshow', 'cancelled')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (pathway_id, kind, attempt),
    check (starts_at < ends_at)
);

-- A booking claims every 5-minute cell it occupies on each resource (buffers included). The primary key
-- makes a double booking of a resource impossible, whatever the application does.
create table resource_claims (
    resource_id text not null references resources (resource_id),
    cell_start timestamptz not null check (extract(epoch from cell_start)::bigint % 300 = 0),
    appointment_id uuid not null references appointments (appointment_id) on delete cascade,
    primary key (resource_id, cell_start)
);
create index resource_claims_appointment on resource_claims (appointment_id);

-- PHI lives here and nowhere else; workflows see only patient_ref.
create table patients (
    patient_ref uuid primary key default gen_random_uuid(),
    clinic_site text not null references clinics (site),
    mrn text not null,
    given_name text not null,
    family_name text not null,
    birth_date date not null,
    phone text,
    email text,
    timezone text not null,
    preferred_channel text not null check (preferred_channel in ('sms', 'email')),
    sms_consent boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (clinic_site, mrn)
);

-- Every message once: message_key is unique, so a retried send finds its row instead of adding one.
create table outbox (
    id bigserial primary key,
    message_key text not null unique,
    pathway_id text not null,
    recipient text not null check (recipient in ('patient', 'staff')),
    patient_ref uuid references patients (patient_ref),
    template text not null,
    params jsonb not null default '{}',
    channel text,
    address text,
    body text,
    status text not null default 'pending' check (status in ('pending', 'sent', 'suppressed')),
    attempts integer not null default 0,
    provider_message_id text,
    last_error text,
    created_at timestamptz not null default now(),
    sent_at timestamptz
);
create index outbox_pathway on outbox (pathway_id);

create table api_clients (
    client_id uuid primary key default gen_random_uuid(),
    name text not null unique,
    key_hash text not null unique,
    scopes text[] not null,
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);

create table idempotency_keys (
    client_id uuid not null references api_clients (client_id),
    idempotency_key text not null,
    request_hash text not null,
    pathway_id text not null,
    created_at timestamptz not null default now(),
    primary key (client_id, idempotency_key)
);

-- Append-only: who read or wrote PHI, when, and why.
create table audit_log (
    id bigserial primary key,
    at timestamptz not null default now(),
    actor text not null,
    action text not null,
    patient_ref uuid,
    pathway_id text,
    detail jsonb not null default '{}'
);

create function audit_log_is_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_log is append-only';
end;
$$;

create trigger audit_log_append_only before update or delete or truncate on audit_log
    for each statement execute function audit_log_is_append_only();
