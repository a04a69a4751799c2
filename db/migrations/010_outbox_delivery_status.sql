-- When an attempt that may have reached the provider began, while nobody knows what became of it (a
-- connection reset after the request went out, a worker that died mid-call): the next attempt asks the
-- provider for the message before sending it again. Null once the outcome is known.
alter table outbox add column unsettled_since timestamptz;

-- What the SMS gateway last reported about a sent message; it only moves forward (db/outbox.py).
alter table outbox
    add column delivery_status text
        check (delivery_status in ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed')),
    add column delivery_status_at timestamptz;

-- Status callbacks find their message by the gateway's id.
create index outbox_provider_message_id on outbox (provider_message_id) where provider_message_id is not null;
