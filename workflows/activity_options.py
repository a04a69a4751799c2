"""Timeouts and retries of each activity, chosen on purpose; every retry is bounded."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio.common import RetryPolicy


@dataclass(frozen=True)
class ActivityOptions:
    start_to_close: timedelta
    schedule_to_close: timedelta
    retry: RetryPolicy


# Booking touches only our database: retry transient failures for a day, quickly at first. No slot, or no
# calendar, fails at once: the appointment book decides when to try again and when to ask staff.
BOOKING = ActivityOptions(
    start_to_close=timedelta(seconds=30),
    schedule_to_close=timedelta(days=1),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(minutes=5),
        non_retryable_error_types=["NoSlotAvailable", "CalendarNotConfigured"],
    ),
)

# A message is worth retrying for an hour: later than that, a diary prompt or reminder has lost its moment,
# and staff are asked to step in instead. A closed pathway waits for its letters no longer than this.
MESSAGE = ActivityOptions(
    start_to_close=timedelta(seconds=30),
    schedule_to_close=timedelta(hours=1),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        maximum_interval=timedelta(minutes=5),
        non_retryable_error_types=["UnknownTemplate", "MessageFailed"],
    ),
)

# Our own database: an appointment's status in the calendar.
CALENDAR_UPDATE = ActivityOptions(
    start_to_close=timedelta(seconds=30),
    schedule_to_close=timedelta(days=1),
    retry=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)),
)

# Our own database: the outbox's record that a message failed, within the same hour a message gets.
OUTBOX_UPDATE = ActivityOptions(
    start_to_close=timedelta(seconds=30),
    schedule_to_close=timedelta(hours=1),
    retry=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)),
)

# Our own database: a workflow task's webhook events, written by a local activity in that task. A few quick
# tries while the task runs; past them the outbox releases the task, waits and writes the same events again
# (workflows/event_outbox.py), so steps are not held up while the database is away and no event is dropped.
EVENT_OUTBOX = ActivityOptions(
    start_to_close=timedelta(seconds=10),
    schedule_to_close=timedelta(seconds=30),
    retry=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=5)),
)
