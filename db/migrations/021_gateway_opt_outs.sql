-- A number the SMS gateway refuses because it unsubscribed there (Twilio error 21610: it texted STOP to the
-- gateway's own handling, or to another of the account's numbers) is an opt-out like a STOP texted to us
-- (`gateway`), not an unusable number: a START or UNSTOP lifts it. Written to run again harmlessly should the
-- file ever be renumbered.
alter table sms_opt_outs drop constraint if exists sms_opt_outs_source_check;
alter table sms_opt_outs add constraint sms_opt_outs_source_check check (source in ('sms_reply', 'gateway'));
