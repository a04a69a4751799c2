"""Whether the MRI on file is recent enough to review instead of booking a new one."""

from datetime import date, timedelta

from domain.referral import MriOnFile


def mri_is_recent(mri: MriOnFile | None, today: date, max_age: timedelta) -> bool:
    """True when an MRI is on file and was performed no longer than `max_age` before `today`."""
    if mri is None:
        return False
    return timedelta(0) <= today - mri.performed_on <= max_age
