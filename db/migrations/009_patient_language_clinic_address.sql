-- The language a patient's messages are written in (activities/messages.py LANGUAGES; another falls back to
-- English), and the clinic's address, which appointment and pre-operative messages tell the patient.
alter table patients add column preferred_language text not null default 'en';
alter table clinics add column address text;
