-- The answer a keyed request gave, for a request that is not a Temporal Update (the revocation of a pathway's
-- patient links): a retry with the same key is answered from here and does nothing again.
alter table idempotency_keys add column answer jsonb;
