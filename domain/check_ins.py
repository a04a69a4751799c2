"""Check-ins after the procedure: the next-day follow-up and the outcome check-ins to 12 months.

Every check-in follows the same chain when the patient does not answer (DESIGN.md §2, Safety): a reminder,
then a task for staff to call, then, with nothing recorded by the final deadline, it is marked
`not_obtained` and the pathway moves on; no check-in stays open for ever.
"""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

CheckInName = Literal["2_weeks", "6_weeks", "3_months", "6_months", "12_months"]
WorkStatus = Literal["working_full", "working_modified", "off_work", "not_employed", "retired"]


class CheckInStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    """Sent; waiting for the patient's answer or staff's call."""
    ANSWERED = "answered"
    NOT_OBTAINED = "not_obtained"
    """Nothing was obtained by the final deadline (or staff reached the patient without answers)."""
    STOPPED = "stopped"
    """The pathway was withdrawn before this check-in was answered."""


class CheckInTimes(BaseModel):
    """An unanswered check-in's chain, each step counted from when the check-in was sent."""

    model_config = ConfigDict(frozen=True)

    reminder_after: timedelta
    answer_window: timedelta
    """Then staff are asked to call the patient."""
    final_deadline: timedelta
    """Then, with no answer and no call that obtained one, the check-in is not obtained."""

    @model_validator(mode="after")
    def _in_order(self) -> "CheckInTimes":
        if not timedelta(0) < self.reminder_after < self.answer_window < self.final_deadline:
            raise ValueError(
                "a check-in's reminder comes before its staff call, and that before its deadline"
            )
        return self

    def compressed(self, factor: int) -> "CheckInTimes":
        return CheckInTimes(
            reminder_after=self.reminder_after / factor,
            answer_window=self.answer_window / factor,
            final_deadline=self.final_deadline / factor,
        )


class ChainStep(StrEnum):
    REMIND = "remind"
    CALL_STAFF = "call_staff"
    GIVE_UP = "give_up"


def chain_steps(opened_at: datetime, times: CheckInTimes) -> list[tuple[datetime, ChainStep]]:
    """When each step of an unanswered check-in's chain falls, in order."""
    return [
        (opened_at + times.reminder_after, ChainStep.REMIND),
        (opened_at + times.answer_window, ChainStep.CALL_STAFF),
        (opened_at + times.final_deadline, ChainStep.GIVE_UP),
    ]
