-- The operations gauges count the outbox's messages not yet sent (pending, sending) or given up (failed)
-- every half minute (api/ops_metrics.py): this index keeps that count off the sent rows, which grow forever.
create index outbox_unfinished on outbox (status, created_at) where status in ('pending', 'sending', 'failed');
