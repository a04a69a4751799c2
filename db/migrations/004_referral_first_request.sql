-- Which keyed request stored the referral (a digest of the API client and its Idempotency-Key; null when it
-- came without a key): a retry with that key answers 201, as its first request did, and any other request 200.
alter table referrals add column first_request text;
