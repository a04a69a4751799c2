"""The period an audit export covers: [since, until), at most MAX_AUDIT_PERIOD, so one request or command
reads a bounded part of the log (a longer span is several exports)."""

from datetime import datetime, timedelta

MAX_AUDIT_PERIOD = timedelta(days=366)


def period_problem(since: datetime, until: datetime) -> str | None:
    """What is wrong with the period, in words for the caller; None when it is fine."""
    if until <= since:
        return "until must be later than since"
    if until - since > MAX_AUDIT_PERIOD:
        return f"a period is at most {MAX_AUDIT_PERIOD.days} days: export a longer span in parts"
    return None
