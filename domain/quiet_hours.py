"""Quiet hours: the local hours in which routine messages to a patient wait, and when they may go instead.

Which messages wait is decided by template (`HELD_IN_QUIET_HOURS`): routine news and instructions, whose
content is the same at 8 in the morning as at 11 at night. Sent at once whatever the hour:
- `red_flag_advice`: urgent; the patient must act now.
- the relief check's diary prompts, nudges and return check (`diary_prompt`, `diary_nudge`, `return_check`):
  the block's diary is time-bound (relief is judged over the hours after the block, which is booked in the
  morning so the diary ends by evening); a held prompt is a lost report. The relief check's messenger is built
  without quiet hours.
- `appointment_reminder`: its moments are placed outside quiet hours when they are scheduled
  (domain/reminders.py); holding it again could push it past its appointment. One sent late (an outage)
  goes at once, or not at all (`reminders_to_send`).
The check-ins (`follow_up_checkin`, `outcome_check_in`) are held, but by the workflow that sends them, not
the messenger (`HELD_BY_THEIR_WORKFLOW`): their moments are placed outside quiet hours when they are scheduled
(outcome check-ins at the follow-up's local hour), and one whose moment comes in quiet hours all the same (a
procedure recorded late, an outage, the demo's fixed delays) waits for their end, then is sent and its answer
window starts: a check-in held overnight loses none of its window to the night.
A check-in's reminder (`check_in_reminder`) is held by the messenger: its check-in's chain goes on meanwhile.
Nothing else a patient is sent is triggered by the patient's own action just now: steps are recorded by the
clinic and its systems, so a message they trigger at night is routine and waits.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import model_validator

from domain.contract import ContractModel
from domain.fields import LocalHour

HELD_IN_QUIET_HOURS = frozenset(
    {
        "appointment_booked",
        "block_preparation",
        "preop_instructions",
        "not_candidate",
        "pathway_closed",
        "check_in_reminder",
    }
)
"""The patient templates a workflow's messenger holds until quiet hours end."""

SENT_AT_ONCE = frozenset(
    {
        "red_flag_advice",
        "diary_prompt",
        "diary_nudge",
        "return_check",
        "appointment_reminder",
    }
)
"""The patient templates never held, each for the reason in this module's docstring."""

HELD_BY_THEIR_WORKFLOW = frozenset({"follow_up_checkin", "outcome_check_in"})
"""The check-ins: the messenger sends them at once, because the workflow that sends them has already waited
out quiet hours (workflows/check_in_chain.py), so that their answer window starts when they are sent."""


class QuietHours(ContractModel):
    """No message to a patient between these local hours (from `start_hour` up to `end_hour`, over midnight
    when `start_hour` is the later one)."""

    start_hour: LocalHour
    end_hour: LocalHour

    @model_validator(mode="after")
    def _not_empty(self) -> "QuietHours":
        if self.start_hour == self.end_hour:
            raise ValueError("quiet hours start and end at different hours")
        return self

    def contain(self, hour: int) -> bool:
        """Whether a local hour of the day (0-23) is quiet."""
        if self.start_hour < self.end_hour:
            return self.start_hour <= hour < self.end_hour
        return hour >= self.start_hour or hour < self.end_hour


def next_allowed(now: datetime, tz_name: str, quiet: QuietHours | None) -> datetime:
    """The first moment from `now` (aware) at which a routine message may go to a patient in time zone
    `tz_name`: `now` itself outside quiet hours, else the end of these quiet hours (in UTC).

    On a day the clocks change, an end hour that does not exist (skipped) is the moment the clocks jump, and
    one that happens twice is its first occurrence.
    """
    if quiet is None:
        return now
    tz = ZoneInfo(tz_name)
    local = now.astimezone(tz)
    if not quiet.contain(local.hour):
        return now
    ends_tomorrow = quiet.start_hour > quiet.end_hour and local.hour >= quiet.start_hour
    end_date = local.date() + timedelta(days=1) if ends_tomorrow else local.date()
    # A skipped wall time (fold 0) converts with the offset before the jump: the moment of the jump itself.
    return datetime.combine(end_date, time(quiet.end_hour), tzinfo=tz).astimezone(UTC)
