-- When the step a key was claimed for was taken: a retry of a step already taken answers from here, without
-- sending its Update again (a workflow that has continued as new since would not know the Update's id).
alter table idempotency_keys add column taken_at timestamptz;
