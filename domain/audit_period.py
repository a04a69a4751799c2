"""The period an audit export covers: [since, until), at most MAX_AUDIT_PERIOD, so one request or command
reads a bounded part of the log (a longer span is several exports), and over by at least SETTLING.

Why the period must be over: an entry's `at` is its transaction's start (`now()`), and it becomes visible only
when that transaction commits, which may be after an export's snapshot. An export of a period still running
could miss such an entry (committed later, with `at` before `until`), and the next period's export, from
`until` on, would exclude it: it would be in no export. An entry's transaction is short (a request's, a
command's), so once `until` is SETTLING in the past, every entry before it is committed or never will be.
"""

from datetime import UTC, datetime, timedelta

MAX_AUDIT_PERIOD = timedelta(days=366)
SETTLING = timedelta(minutes=5)


def period_problem(since: datetime, until: datetime, *, now: datetime | None = None) -> str | None:
    """What is wrong with the period, in words for the caller; None when it is fine."""
    if until <= since:
        return "until must be later than since"
    if until - since > MAX_AUDIT_PERIOD:
        return f"a period is at most {MAX_AUDIT_PERIOD.days} days: export a longer span in parts"
    latest = (now or datetime.now(UTC)) - SETTLING
    if until > latest:
        minutes = int(SETTLING.total_seconds() // 60)
        return (
            f"the period must have ended: until must be at least {minutes} minutes ago"
            f" (at most {latest.astimezone(UTC).replace(microsecond=0).isoformat()}), so that no entry"
            " still being written is left out"
        )
    return None
