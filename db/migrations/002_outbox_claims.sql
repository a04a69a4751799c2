-- A message is claimed while its provider call runs, so no transaction stays open across that call:
-- 'sending' with a claim that lapses at claimed_until (a crashed sender's claim is taken over after it),
-- and 'failed' once the workflow has given up on it.
alter table outbox drop constraint outbox_status_check;
alter table outbox add constraint outbox_status_check
    check (status in ('pending', 'sending', 'sent', 'suppressed', 'failed'));

alter table outbox add column claimed_until timestamptz, add column claim_token uuid;

-- A claim exists exactly while the row is being sent.
alter table outbox add constraint outbox_claim_check
    check ((status = 'sending') = (claimed_until is not null and claim_token is not null));
