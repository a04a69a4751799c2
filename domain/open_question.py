"""The question a patient's link page asks now, read from the pathway view: the diary's pain while the
relief check has sent a prompt and not given its verdict, the next-day follow-up once its check-in is sent,
the outcome check-in that is open; else none.

Its `key` names the question a form answers, so an answer to a question that has closed since the page was
shown is told apart from an answer to the one open now.

Beside any question, the page offers to ask the clinic to move or cancel the pathway's next appointment
(`appointment_to_change`): its form's key names the appointment (`change_key`), never a question.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import get_args

from domain.appointments import Appointment, AppointmentStatus, appointment_kind_of
from domain.check_ins import CheckInName, CheckInStatus
from domain.stages import PathwayStatus, Stage
from domain.view import PathwayView


class QuestionKind(StrEnum):
    DIARY = "diary"
    FOLLOW_UP = "follow_up"
    OUTCOME = "outcome"


@dataclass(frozen=True)
class OpenQuestion:
    kind: QuestionKind
    key: str
    block_number: int | None = None
    """The relief check a diary answer goes to."""
    check_in: CheckInName | None = None
    """The outcome check-in an answer is for."""


def open_question(view: PathwayView) -> OpenQuestion | None:
    if view.status != PathwayStatus.ACTIVE:
        return None
    if view.stage == Stage.RELIEF_CHECK:
        diary = view.relief_check
        if diary.prompts_sent and diary.result is None:
            block = diary.block_number
            return OpenQuestion(QuestionKind.DIARY, f"diary:{block}", block_number=block)
    elif view.stage == Stage.FOLLOW_UP:
        if view.follow_up.status == CheckInStatus.OPEN:
            return OpenQuestion(QuestionKind.FOLLOW_UP, "follow_up")
    elif view.stage == Stage.OUTCOMES:
        for check_in in view.outcomes:
            if check_in.status == CheckInStatus.OPEN:
                name = check_in.check_in
                return OpenQuestion(QuestionKind.OUTCOME, f"outcome:{name}", check_in=name)
    return None


def question_of_key(key: str) -> OpenQuestion | None:
    """The question a form's `key` names (as `open_question` made it); None for a key it never makes."""
    kind, _, rest = key.partition(":")
    if kind == QuestionKind.DIARY and rest.isdigit():
        return OpenQuestion(QuestionKind.DIARY, key, block_number=int(rest))
    if key == QuestionKind.FOLLOW_UP:
        return OpenQuestion(QuestionKind.FOLLOW_UP, key)
    if kind == QuestionKind.OUTCOME and rest in get_args(CheckInName):
        return OpenQuestion(QuestionKind.OUTCOME, key, check_in=rest)  # type: ignore[arg-type]
    return None


_CHANGE = "appointment:"
_APPOINTMENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a uuid; at most 64 as the staff route's path takes it

FORM_KEY = re.compile(r"[a-z_]{1,16}(?::[A-Za-z0-9_-]{1,64})?")
"""Every key a form of the page carries (a question's, `change_key`'s, the consents form's) is of these
characters: a form with any other key was not rendered by the page, and is refused before its key is looked
up or stored (PostgreSQL stores no NUL)."""


@dataclass(frozen=True)
class ChangeOffer:
    """The appointment the page offers to move or cancel."""

    appointment: Appointment
    requested: bool
    """A change was asked for already (by the link, a text or a call), and staff have not acted on it yet."""


def changeable_appointment(view: PathwayView, now: datetime) -> Appointment | None:
    """The appointment a patient may ask to move or cancel (from their link, or by replying R): the one the
    running pathway waits on in its stage, booked and still to come. An appointment of a stage already
    behind it (a block whose diary runs, its slot in the future because the step was recorded early) is
    not offered: it has happened."""
    kind = appointment_kind_of(view.stage)
    if view.status != PathwayStatus.ACTIVE or kind is None:
        return None
    to_come = [
        a
        for a in view.appointments
        if a.kind == kind and a.status == AppointmentStatus.BOOKED and a.starts_at > now
    ]
    return min(to_come, key=lambda a: a.starts_at) if to_come else None


def appointment_to_change(view: PathwayView, now: datetime) -> ChangeOffer | None:
    """What the link page offers to change (`changeable_appointment`), and whether it was asked already."""
    appointment = changeable_appointment(view, now)
    if appointment is None:
        return None
    requested = any(r.appointment_id == appointment.appointment_id for r in view.change_requests)
    return ChangeOffer(appointment, requested)


def change_key(appointment_id: str) -> str:
    """The key of the form that asks to change the appointment."""
    return f"{_CHANGE}{appointment_id}"


def appointment_of_key(key: str) -> str | None:
    """The appointment a change form's key names; None for any other key."""
    kind, _, appointment_id = key.partition(":")
    if f"{kind}:" != _CHANGE or not _APPOINTMENT_ID.fullmatch(appointment_id):
        return None
    return appointment_id
