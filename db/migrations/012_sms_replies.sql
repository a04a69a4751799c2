-- Replies by text. A patient's number as the SMS gateway's sender field is compared with it: normalised to
-- E.164 by the application (domain/phones.py) whenever the phone is written. Numbers stored so far were
-- accepted only in E.164 form, so they are copied as they are.
alter table patients add column phone_e164 text;
update patients set phone_e164 = phone where phone ~ '^\+[1-9][0-9]{6,14}$';
create index patients_phone_e164 on patients (phone_e164) where phone_e164 is not null;

-- Numbers that texted STOP (or a synonym): no SMS to any patient with that number until it texts START.
-- Kept by number, not by patient, so that every patient sharing the number is covered, and a referral that
-- registers a patient with the number later never sends to it either.
create table sms_opt_outs (
    phone_e164 text primary key,
    opted_out_at timestamptz not null,
    source text not null check (source in ('sms_reply'))
);

-- Every text received from the gateway, once: a redelivered webhook finds its row. No body is kept (it may
-- be PHI); received_at is the time a diary answer is recorded at, so a redelivery records the same report.
create table sms_inbound (
    message_sid text primary key,
    received_at timestamptz not null,
    patient_ref uuid references patients (patient_ref),
    outcome text
);
create index sms_inbound_patient on sms_inbound (patient_ref, received_at) where patient_ref is not null;

-- The number patients call with questions: what a HELP reply gives them.
alter table clinics add column phone text;
