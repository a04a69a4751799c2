-- The clinic sites an API client is limited to: it sees and changes only those sites' pathways, patients and
-- policies. Null: every site (the bootstrap client, and every client created before sites existed). An empty
-- list would be a key that reaches nothing: refused, so "no limit" is never spelt two ways.
alter table api_clients add column clinic_sites text[]
    check (clinic_sites is null or cardinality(clinic_sites) > 0);
