-- The audit log is exported by period (GET /v1/audit, `dvr-admin audit export`): read in time order without
-- scanning the whole table.
create index audit_log_at on audit_log (at, id);
