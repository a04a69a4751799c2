"""The link page asks the question that is open, in either language, and reads only the answers it offers."""

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from api.link_answers import RECORDED_BY, FormError, answer_for, read_form
from api.pages.render import LANGUAGES, TEXTS, language_of
from domain.check_ins import CheckInStatus
from domain.open_question import OpenQuestion, QuestionKind, open_question, question_of_key
from domain.results import FollowUpAnswer, OutcomeAnswer, PainReport
from domain.stages import PathwayStatus, Stage
from domain.view import FollowUpView, OutcomeCheckInView, PathwayView, ReliefCheckView, SentPrompt

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _shape(texts: dict[str, Any]) -> dict[str, Any]:
    return {k: _shape(v) if isinstance(v, dict) else None for k, v in texts.items()}


def test_both_languages_have_every_text() -> None:
    assert _shape(TEXTS["es"]) == _shape(TEXTS["en"])
    assert language_of("es") == "es" and language_of("fr") == language_of(None) == "en"
    assert LANGUAGES == ("en", "es")


def _view(**changes: Any) -> PathwayView:
    return PathwayView(pathway_id="pathway-x", clinic_site="s", patient_ref="r", profile="demo", **changes)


def test_the_diary_is_open_from_its_first_prompt_until_its_verdict() -> None:
    prompt = SentPrompt(number=1, at=NOW, answer_due_at=NOW)
    diary = ReliefCheckView(block_number=2, prompts_sent=[prompt])
    assert open_question(_view(stage=Stage.RELIEF_CHECK, relief_check=diary)) == OpenQuestion(
        QuestionKind.DIARY, "diary:2", block_number=2
    )
    assert open_question(_view(stage=Stage.RELIEF_CHECK, relief_check=ReliefCheckView())) is None
    ended = diary.model_copy(update={"result": "negative"})
    assert open_question(_view(stage=Stage.RELIEF_CHECK, relief_check=ended)) is None
    closed = _view(stage=Stage.RELIEF_CHECK, relief_check=diary, status=PathwayStatus.CLOSED)
    assert open_question(closed) is None


def test_the_check_ins_are_open_once_sent() -> None:
    follow_up = _view(stage=Stage.FOLLOW_UP, follow_up=FollowUpView(status=CheckInStatus.OPEN))
    assert open_question(follow_up) == OpenQuestion(QuestionKind.FOLLOW_UP, "follow_up")
    scheduled = _view(stage=Stage.FOLLOW_UP, follow_up=FollowUpView(status=CheckInStatus.SCHEDULED))
    assert open_question(scheduled) is None
    outcomes = [
        OutcomeCheckInView(check_in="2_weeks", due_at=NOW, status=CheckInStatus.ANSWERED),
        OutcomeCheckInView(check_in="6_weeks", due_at=NOW, status=CheckInStatus.OPEN),
    ]
    question = open_question(_view(stage=Stage.OUTCOMES, outcomes=outcomes))
    assert question == OpenQuestion(QuestionKind.OUTCOME, "outcome:6_weeks", check_in="6_weeks")
    assert open_question(_view(stage=Stage.CANDIDACY)) is None


@pytest.mark.parametrize("key", ["diary:1", "follow_up", "outcome:12_months"])
def test_a_question_is_found_again_from_its_key(key: str) -> None:
    question = question_of_key(key)
    assert question is not None and question.key == key


@pytest.mark.parametrize("key", ["diary:", "diary:x", "outcome:1_year", "follow", ""])
def test_a_key_never_made_names_no_question(key: str) -> None:
    assert question_of_key(key) is None


def _form(**fields: Any) -> bytes:
    return urlencode({"answer_id": str(uuid.uuid4()), **fields}, doseq=True).encode()


def test_the_forms_answers_make_the_step_staff_would_send() -> None:
    diary = question_of_key("diary:1")
    follow_up = question_of_key("follow_up")
    outcome = question_of_key("outcome:2_weeks")
    assert diary and follow_up and outcome
    assert answer_for(diary, read_form(_form(question="diary:1", pain="0"))) == PainReport(pain=0)
    answered = answer_for(
        follow_up,
        read_form(_form(question="follow_up", pain="4", returned_to_work="no", red_flags=["fever", "fever"])),
    )
    assert answered == FollowUpAnswer(pain=4, returned_to_work=False, red_flags=["fever"])
    assert answer_for(follow_up, read_form(_form(question="follow_up", pain="4"))) == FollowUpAnswer(pain=4)
    fields = {"question": "outcome:2_weeks", "pain": "3", "work_status": "retired", "pgic": "7"}
    assert answer_for(outcome, read_form(_form(**fields))) == OutcomeAnswer(
        check_in="2_weeks", pain=3, work_status="retired", pgic=7, recorded_by=RECORDED_BY
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"pain": "11"},
        {"pain": "-1"},
        {"pain": "5.0"},
        {"pain": ""},
        {},
        {"pain": ["2", "3"]},
        {"pain": "2", "red_flags": "headache"},
    ],
)
def test_an_answer_it_does_not_offer_is_refused(fields: dict[str, Any]) -> None:
    diary = question_of_key("diary:1")
    assert diary is not None
    with pytest.raises(FormError):
        answer_for(diary, read_form(_form(question="diary:1", **fields)))


@pytest.mark.parametrize("body", [b"", b"question=diary:1&pain=3", b"answer_id=nope&question=x", b"\xff\xfe"])
def test_a_body_that_is_no_answer_form_is_refused(body: bytes) -> None:
    with pytest.raises(FormError):
        read_form(body)
