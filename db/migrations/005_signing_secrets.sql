-- Secrets the API signs with, shared by every API process and kept across restarts. Page tokens are signed
-- so that a client cannot forge a cursor for Temporal to chew on. Two v4 UUIDs: 244 random bits.
create table signing_secrets (
    purpose text primary key,
    secret text not null
);
insert into signing_secrets (purpose, secret)
values ('page_tokens', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
