"""Timeouts and retries of each activity, chosen on purpose."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio.common import RetryPolicy


@dataclass(frozen=True)
class ActivityOptions:
    start_to_close: timedelta
    schedule_to_close: timedelta
    retry: RetryPolicy


# Booking touches only our database: retry transient failures for a day, quickly at first.
BOOKING = ActivityOptions(
    start_to_close=timedelta(seconds=30),
    schedule_to_close=timedelta(days=1),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(minutes=5),
        non_retryable_error_types=["NoSlotAvailable", "CalendarNotConfigured"],
    ),
)

# Messages may wait out a provider outage for a day; after that the pathway asks staff to step in.
MESSAGE = ActivityOptions(
    start_to_close=timedelta(seconds=30),
    schedule_to_close=timedelta(days=1),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        maximum_interval=timedelta(minutes=10),
        non_retryable_error_types=["UnknownTemplate"],
    ),
)

CALENDAR_UPDATE = ActivityOptions(
    start_to_close=timedelta(seconds=30),
    schedule_to_close=timedelta(days=1),
    retry=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)),
)
