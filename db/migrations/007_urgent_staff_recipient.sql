-- Urgent staff messages (red flags) go to the care team's urgent channel, recorded as their own recipient.
alter table outbox drop constraint outbox_recipient_check;
alter table outbox add constraint outbox_recipient_check
    check (recipient in ('patient', 'staff', 'staff_urgent'));
