-- Webhooks (README "Webhooks"). A subscription is a receiver's URL, the event types it wants and the secret
-- its deliveries are signed with (Standard Webhooks; shown once, when the subscription is made). A key limited
-- to some clinic sites makes a subscription limited to them (`clinic_sites`; null: every site).
create table webhook_subscriptions (
    id uuid primary key,
    url text not null,
    event_types text[] not null,
    secret text not null,
    clinic_sites text[],
    description text,
    created_by text not null,
    created_at timestamptz not null default now(),
    deleted_at timestamptz
);

-- The outbox: one row per pathway event, written by the workflow step that caused it (a local activity in
-- the same workflow task). `sequence` is the event's place among its pathway's events, and `seq` the order
-- rows were written in. A workflow task that is retried writes the same event ids again: the row is kept
-- (its content made the retried task's), and rows past the retried task's last event, written by the try
-- that never completed, are dropped unless already delivered (db/webhook_outbox.py).
create table webhook_events (
    seq bigserial primary key,
    event_id text not null unique,
    pathway_id text not null,
    sequence integer not null,
    clinic_site text not null,
    event_type text not null,
    occurred_at timestamptz not null,
    payload jsonb not null,
    recorded_at timestamptz not null default now()
);
create index webhook_events_pathway on webhook_events (pathway_id, sequence);

-- One delivery per event and subscription that wanted it, made in the transaction that wrote the event.
-- pending ──2xx──▶ delivered; pending ──out of retries──▶ failed ──redeliver──▶ pending;
-- pending ──subscription deleted──▶ cancelled. A pending delivery is sent only once every earlier pending
-- delivery of its pathway to that subscription is settled (order per pathway); `next_attempt_at` is also the
-- lease of an attempt under way, so a sender that dies mid-delivery leaves it to be sent again, same id.
create table webhook_deliveries (
    id uuid primary key default gen_random_uuid(),
    subscription_id uuid not null references webhook_subscriptions (id),
    event_seq bigint not null references webhook_events (seq),
    pathway_id text not null,
    status text not null default 'pending'
        check (status in ('pending', 'delivered', 'failed', 'cancelled')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_attempt_at timestamptz,
    last_status_code integer,
    last_error text,
    delivered_at timestamptz,
    created_at timestamptz not null default now(),
    unique (subscription_id, event_seq)
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_queue
    on webhook_deliveries (subscription_id, pathway_id, event_seq) where status = 'pending';
create index webhook_deliveries_listing on webhook_deliveries (subscription_id, created_at desc, id);
