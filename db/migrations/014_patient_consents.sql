-- The patient's rules of contact: one row per decision, never updated. The latest row (greatest id: the order
-- decisions were written in) per patient and category is in force; a category with no row is granted, as
-- every patient was before consents were recorded. `email` is consent to e-mail at all; the others are kinds
-- of message (activities/message_categories.py).
create table patient_consents (
    id bigserial primary key,
    patient_ref uuid not null references patients (patient_ref),
    category text not null check (category in ('appointments', 'diary', 'follow_up', 'email')),
    granted boolean not null,
    recorded_at timestamptz not null,
    source text not null check (source in ('referral', 'api', 'sms_reply', 'link'))
);
create index patient_consents_by_patient on patient_consents (patient_ref, id);
