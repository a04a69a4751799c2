-- A consent decision comes from the referral, staff (`api`) or the patient's link page (`link`). No text
-- message records a per-category consent (STOP and START are per number, in sms_opt_outs), so `sms_reply` is
-- no longer accepted. Written to run again harmlessly should the file ever be renumbered.
alter table patient_consents drop constraint if exists patient_consents_source_check;
alter table patient_consents
    add constraint patient_consents_source_check check (source in ('referral', 'api', 'link'));
