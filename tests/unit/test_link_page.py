"""The link page asks the question that is open, in either language, and reads only the answers it offers;
beside it, it offers to ask the clinic to move or cancel the next booked appointment."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from api.link_answers import RECORDED_BY, FormError, answer_for, change_for, read_form
from api.pages.link_page import link_page, shown_by
from api.pages.render import LANGUAGES, TEXTS, language_of
from domain.appointments import Appointment, AppointmentKind, AppointmentStatus
from domain.check_ins import CheckInStatus
from domain.open_question import (
    ChangeOffer,
    OpenQuestion,
    QuestionKind,
    appointment_of_key,
    appointment_to_change,
    change_key,
    open_question,
    question_of_key,
)
from domain.results import AppointmentChangeRequest, FollowUpAnswer, OutcomeAnswer, PainReport
from domain.stages import PathwayStatus, Stage
from domain.view import (
    ChangeRequestView,
    FollowUpView,
    OutcomeCheckInView,
    PathwayView,
    ReliefCheckView,
    SentPrompt,
)

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


SENT = datetime(2026, 12, 5, 16, 0, tzinfo=UTC)


def _form(**fields: Any) -> bytes:
    return urlencode({"answer_id": str(uuid.uuid4()), **fields}, doseq=True).encode()


def test_the_forms_answers_make_the_step_staff_would_send() -> None:
    diary = question_of_key("diary:1")
    follow_up = question_of_key("follow_up")
    outcome = question_of_key("outcome:2_weeks")
    assert diary and follow_up and outcome
    # A diary answer counts when the patient sent it, not when the worker takes it (a busy or restarted
    # worker may take it minutes later, past the relief rule's onset window).
    assert answer_for(diary, read_form(_form(question="diary:1", pain="0")), SENT) == PainReport(
        pain=0, recorded_at=SENT
    )
    answered = answer_for(
        follow_up,
        read_form(_form(question="follow_up", pain="4", returned_to_work="no", red_flags=["fever", "fever"])),
        SENT,
    )
    assert answered == FollowUpAnswer(pain=4, returned_to_work=False, red_flags=["fever"])
    assert answer_for(follow_up, read_form(_form(question="follow_up", pain="4")), SENT) == FollowUpAnswer(
        pain=4
    )
    fields = {"question": "outcome:2_weeks", "pain": "3", "work_status": "retired", "pgic": "7"}
    assert answer_for(outcome, read_form(_form(**fields)), SENT) == OutcomeAnswer(
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
        answer_for(diary, read_form(_form(question="diary:1", **fields)), SENT)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"question=diary:1&pain=3",
        b"answer_id=nope&question=x",
        b"\xff\xfe",
        # Keys the page never renders: PostgreSQL takes no NUL, and no key has a control character or space.
        _form(question="appointment:\x00x", wish="reschedule"),
        _form(question="appointment:exam 1", wish="reschedule"),
        _form(question="diary:1\n", pain="3"),
        _form(question="follow_up\x7f", pain="3"),
        _form(question="diary:1", pain="3\x00"),
    ],
    ids=[
        "empty",
        "no-answer-id",
        "answer-id-not-a-uuid",
        "not-utf-8",
        "nul-in-appointment-key",
        "space-in-appointment-key",
        "newline-in-key",
        "del-in-key",
        "nul-in-answer",
    ],
)
def test_a_body_that_is_no_answer_form_is_refused(body: bytes) -> None:
    with pytest.raises(FormError):
        read_form(body)


# The next appointment, which the page offers to move or cancel.

EXAM_AT = datetime(2026, 3, 3, 17, 30, tzinfo=UTC)  # 10:30 in Phoenix


def _appointment(appointment_id: str, starts_at: datetime, **changes: Any) -> Appointment:
    kind = changes.pop("kind", AppointmentKind.EXAM)
    return Appointment(
        appointment_id=appointment_id,
        kind=kind,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        **changes,
    )


def _page(view: PathwayView, language: str = "en", now: datetime = NOW) -> str:
    shown = shown_by(view, now)
    return bytes(link_page("tok", language, "America/Phoenix", shown).body).decode()


def test_the_soonest_booked_appointment_to_come_is_offered() -> None:
    later = _appointment("block-1", EXAM_AT + timedelta(days=7), kind=AppointmentKind.BLOCK)
    exam = _appointment("exam-1", EXAM_AT)
    view = _view(stage=Stage.EXAM, appointments=[later, exam])
    assert appointment_to_change(view, NOW) == ChangeOffer(exam, requested=False)
    asked = ChangeRequestView(appointment_id="exam-1", wish="cancel", via="sms", at=NOW)
    requested = view.model_copy(update={"change_requests": [asked]})
    assert appointment_to_change(requested, NOW) == ChangeOffer(exam, requested=True)
    assert appointment_to_change(view.model_copy(update={"status": PathwayStatus.CLOSED}), NOW) is None


def test_no_appointment_to_come_no_section() -> None:
    past = _appointment("mri-1", NOW - timedelta(hours=1), kind=AppointmentKind.MRI)
    now = _appointment("mri-2", NOW, kind=AppointmentKind.MRI)
    cancelled = _appointment("exam-1", EXAM_AT, status=AppointmentStatus.CANCELLED)
    arrived = _appointment("exam-2", EXAM_AT, status=AppointmentStatus.ARRIVED)
    for appointments in ([], [past], [now], [cancelled], [arrived], [past, cancelled, arrived]):
        view = _view(stage=Stage.EXAM, appointments=appointments)
        assert appointment_to_change(view, NOW) is None
        html = _page(view)
        assert "Need to change your appointment?" not in html and 'name="wish"' not in html
        assert "Nothing to answer now" in html


def test_the_section_shows_the_appointment_in_the_patients_time_and_language() -> None:
    view = _view(stage=Stage.EXAM, appointments=[_appointment("exam-1", EXAM_AT)])
    html = _page(view)
    assert "Nothing to answer now" in html  # the section stands alone when nothing else is open
    assert "Need to change your appointment?" in html
    assert "Your physical exam is on Tue 03 Mar 10:30 MST." in html
    assert html.count("<form") == 1
    assert 'name="question" value="appointment:exam-1"' in html
    assert '<button type="submit" name="wish" value="reschedule">Ask to reschedule</button>' in html
    assert 'name="wish" value="cancel" class="secondary">Ask to cancel</button>' in html
    spanish = _page(view, "es")
    assert "¿Necesita cambiar su cita?" in spanish
    assert "Su consulta médica es el martes 03 mar 10:30 MST." in spanish
    assert "Pedir otra fecha" in spanish


def test_an_appointment_of_a_stage_behind_the_pathway_is_not_offered() -> None:
    # The block was recorded before its slot (the demo does): its diary runs, its booking is still "to come".
    prompt = SentPrompt(number=1, at=NOW, answer_due_at=NOW)
    block = _appointment("block-1", EXAM_AT, kind=AppointmentKind.BLOCK)
    view = _view(
        stage=Stage.RELIEF_CHECK,
        relief_check=ReliefCheckView(block_number=1, prompts_sent=[prompt]),
        appointments=[block],
    )
    html = _page(view)
    assert "Your pain diary" in html and "medial branch block is on" not in html
    assert html.count("<form") == 1


def test_a_change_asked_for_already_is_said_and_not_offered_again() -> None:
    asked = ChangeRequestView(appointment_id="exam-1", wish="reschedule", via="link", at=NOW)
    view = _view(stage=Stage.EXAM, appointments=[_appointment("exam-1", EXAM_AT)], change_requests=[asked])
    html = _page(view)
    assert "You have asked the clinic to change this appointment." in html
    assert "<form" not in html


def test_the_change_form_is_read_into_the_request_the_workflow_takes() -> None:
    assert appointment_of_key(change_key("exam-1")) == "exam-1"
    for key in ("appointment:", "diary:1", "follow_up", f"appointment:{'x' * 65}", "appointment:\x00x"):
        assert appointment_of_key(key) is None
    form = read_form(_form(question="appointment:exam-1", wish="cancel"))
    assert change_for("exam-1", form) == AppointmentChangeRequest(
        appointment_id="exam-1", wish="cancel", via="link"
    )
    for fields in ({}, {"wish": "move"}, {"wish": ["cancel", "reschedule"]}):
        with pytest.raises(FormError):
            change_for("exam-1", read_form(_form(question="appointment:exam-1", **fields)))
