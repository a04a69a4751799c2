-- When the patient's mail server refused their e-mail address for good (no such mailbox): e-mail stops and
-- messages go by SMS where the patient consented to it. A new address clears it, as a new number clears
-- phone_refused_at (011).
alter table patients add column email_refused_at timestamptz;
