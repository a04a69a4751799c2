-- Idempotency keys of step POSTs beside those of referrals: a key is scoped to its client and its route.
-- For a step, pathway_id is the workflow its Update went to (the pathway, or its relief check).
alter table idempotency_keys add column route text not null default 'referrals';
alter table idempotency_keys alter column route drop default;
alter table idempotency_keys drop constraint idempotency_keys_pkey;
alter table idempotency_keys add primary key (client_id, route, idempotency_key);

-- The referral that started each pathway, as a canonical hash: a replay of the referral (same source and
-- referral id, so the same pathway) is compared with it and never rewrites the stored patient. The primary
-- key serialises concurrent first requests for one referral.
create table referrals (
    pathway_id text primary key,
    referral_hash text not null,
    patient_ref uuid not null references patients (patient_ref),
    created_at timestamptz not null default now()
);
