-- 'abandoned': a message no attempt can send any more, and none ever recorded as sent. Its workflow moved on
-- without it (a relief check that finished while a prompt waited for its retry, a workflow an operator
-- terminated) and every send's retries end within the activity's schedule-to-close bound, so the worker's
-- outbox sweep (workers/outbox_sweep.py) marks such rows once that bound has passed. Left 'pending', they
-- stayed in the operations gauges' oldest unsent message for good. `unsettled_since` is kept: set, it says
-- an attempt may have reached the provider.
alter table outbox drop constraint outbox_status_check;
alter table outbox add constraint outbox_status_check
    check (status in ('pending', 'sending', 'sent', 'suppressed', 'failed', 'abandoned'));

-- The operations gauges count them too (db/ops_counts.py), off the sent rows as before.
drop index outbox_unfinished;
create index outbox_unfinished on outbox (status, created_at)
    where status in ('pending', 'sending', 'failed', 'abandoned');
