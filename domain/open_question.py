"""The question a patient's link page asks now, read from the pathway view: the diary's pain while the
relief check has sent a prompt and not given its verdict, the next-day follow-up once its check-in is sent,
the outcome check-in that is open; else none.

Its `key` names the question a form answers, so an answer to a question that has closed since the page was
shown is told apart from an answer to the one open now.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import get_args

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
