-- When the SMS gateway refused the patient's number as unusable (invalid, not a mobile, unsubscribed at the
-- gateway): SMS stops and messages go by e-mail where the patient has an address. A new number clears it.
alter table patients add column phone_refused_at timestamptz;
