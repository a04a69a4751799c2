"""The FHIR resources built from a pathway view (api/fhir): valid R4(B), mapped as documented, no PHI."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from api.fhir.appointments import appointments_of
from api.fhir.bundle import searchset
from api.fhir.capability import capability_statement
from api.fhir.codes import LOINC, PAIN_SCORE
from api.fhir.ids import pathway_of_response
from api.fhir.operation_outcome import operation_outcome
from api.fhir.questionnaire_responses import questionnaire_responses_of
from api.fhir.task import OUTCOME_DISPLAY, task_of
from domain.appointments import Appointment, AppointmentKind, AppointmentStatus
from domain.check_ins import CheckInStatus
from domain.stages import Actor, Outcome, PathwayStatus, Stage
from domain.view import (
    FollowUpView,
    NextAction,
    OutcomeCheckInView,
    PathwayView,
    ReliefCheckView,
    ReportedPain,
    TimelineEntry,
)
from tests.fhir_checks import validated

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
PATIENT_REF = "0b6f0c9e-4a4e-4c43-9d0e-5d1b7f0a2f11"
PATHWAY_ID = "pathway-5f0c1f3e-8f0e-5a7e-9c1d-3b2a1e0f9d8c"
# A logical reference: this server serves no Patient, so nothing points at `Patient/...`.
PATIENT = {"identifier": {"system": "urn:dvr-pathway-orchestrator:patient-ref", "value": PATIENT_REF}}
REASON_CANARY = "Patient Jane Doe moved to 12 Elm St"


def _view(**changes: object) -> PathwayView:
    block = ReliefCheckView(
        anesthetic="lidocaine",
        baseline_pain=8,
        performed_at=AT,
        reports=[
            ReportedPain(at=AT + timedelta(minutes=15), pain=1),
            ReportedPain(at=AT + timedelta(hours=3), pain=7),
        ],
        return_check_pain=7,
        returned_at=AT + timedelta(hours=24),
    )
    view = PathwayView(
        pathway_id=PATHWAY_ID,
        stage=Stage.OUTCOMES,
        clinic_site="phoenix-main",
        patient_ref=PATIENT_REF,
        profile="clinical",
        appointments=[
            Appointment(
                appointment_id="6c1e2b9a-0d1f-4b7e-8a2c-1f3e5d7c9b0a",
                kind=AppointmentKind.BLOCK,
                starts_at=AT,
                ends_at=AT + timedelta(minutes=30),
                status=AppointmentStatus.ARRIVED,
            ),
            Appointment(
                appointment_id="7d2f3c0b-1e2a-4c8f-9b3d-2a4f6e8d0c1b",
                kind=AppointmentKind.DVR,
                starts_at=AT + timedelta(days=7),
                ends_at=AT + timedelta(days=7, minutes=60),
                status=AppointmentStatus.CANCELLED,
            ),
        ],
        relief_check=block,
        blocks=[block],
        follow_up=FollowUpView(
            status=CheckInStatus.ANSWERED, pain=2, returned_to_work=True, red_flags=["fever"]
        ),
        outcomes=[
            OutcomeCheckInView(
                check_in="2_weeks",
                due_at=AT + timedelta(days=14),
                status=CheckInStatus.ANSWERED,
                answered_at=AT + timedelta(days=14),
                pain=1,
                work_status="working_full",
                pgic=6,
            ),
            OutcomeCheckInView(check_in="6_weeks", due_at=AT + timedelta(days=42)),
        ],
        next_action=NextAction(
            actor=Actor.PATIENT, action="outcome_check_in", due_at=AT + timedelta(days=42)
        ),
        timeline=[
            TimelineEntry(at=AT, event="started"),
            TimelineEntry(at=AT + timedelta(days=14), event="x"),
        ],
    )
    return view.model_copy(update=changes)


def test_the_task_carries_status_stage_next_action_and_due_time() -> None:
    task = validated(task_of(_view()))
    assert task["id"] == PATHWAY_ID and task["status"] == "in-progress" and task["intent"] == "order"
    assert task["businessStatus"]["coding"][0]["code"] == "outcomes"
    assert task["performerType"][0]["coding"][0]["code"] == "patient"
    assert task["owner"] == PATIENT and task["for"] == PATIENT
    assert task["restriction"]["period"]["end"] == (AT + timedelta(days=42)).isoformat()


@pytest.mark.parametrize(
    ("status", "outcome", "expected"),
    [
        (PathwayStatus.COMPLETED, Outcome.DVR_COMPLETED, "completed"),
        (PathwayStatus.CLOSED, Outcome.WITHDRAWN, "cancelled"),
    ],
)
def test_an_ended_pathway_is_a_finished_task_with_its_outcome(
    status: PathwayStatus, outcome: Outcome, expected: str
) -> None:
    view = _view(status=status, outcome=outcome, outcome_reason=REASON_CANARY, next_action=None)
    task = validated(task_of(view))
    assert task["status"] == expected
    assert task["statusReason"]["coding"][0]["code"] == outcome.value
    assert task["statusReason"]["text"] == OUTCOME_DISPLAY[outcome]
    assert "owner" not in task and "restriction" not in task
    # The reason as staff typed it is free text (it may name the patient): only the outcome code goes out.
    assert "Elm St" not in json.dumps(task) and "Jane" not in json.dumps(task)


def test_every_outcome_has_a_fixed_display() -> None:
    assert set(OUTCOME_DISPLAY) == set(Outcome)


def test_a_clinicians_next_action_is_a_role_not_a_reference() -> None:
    view = _view(next_action=NextAction(actor=Actor.CLINICIAN, action="candidacy_decision"))
    task = validated(task_of(view))
    assert task["owner"] == {"display": "clinician"} and "restriction" not in task


def test_appointments_keep_their_status_and_point_at_the_task() -> None:
    bundle = validated(searchset("http://api.test/fhir", appointments_of(_view())))
    resources = [entry["resource"] for entry in bundle["entry"]]
    assert [r["status"] for r in resources] == ["arrived", "cancelled"]
    assert all(r["participant"][0]["actor"] == PATIENT for r in resources)
    assert all(r["supportingInformation"] == [{"reference": f"Task/{PATHWAY_ID}"}] for r in resources)
    assert bundle["entry"][0]["fullUrl"].startswith("http://api.test/fhir/Appointment/")


def test_each_diary_report_and_check_in_answer_is_a_response_with_pain_coded_in_loinc() -> None:
    bundle = validated(searchset("http://api.test/fhir", questionnaire_responses_of(_view())))
    responses = [entry["resource"] for entry in bundle["entry"]]
    # Two diary reports, the +24 h return check, the follow-up, the one answered outcome check-in.
    assert len(responses) == 5
    assert all(r["subject"] == PATIENT and r["source"] == PATIENT for r in responses)
    pains = []
    for response in responses:
        (questionnaire,) = response["contained"]
        assert response["questionnaire"] == f"#{questionnaire['id']}"
        pain_item = questionnaire["item"][0]
        assert pain_item["code"][0] == {
            "system": LOINC,
            "code": PAIN_SCORE,
            "display": pain_item["code"][0]["display"],
        }
        (answered,) = [item for item in response["item"] if item["linkId"] == PAIN_SCORE]
        pains.append(answered["answer"][0]["valueInteger"])
    assert pains == [1, 7, 7, 2, 1]


def test_no_resource_points_at_a_patient_resource() -> None:
    view = _view()
    resources = [task_of(view), *appointments_of(view), *questionnaire_responses_of(view)]
    assert all("Patient/" not in json.dumps(validated(r)) for r in resources)


def test_each_response_id_names_its_pathway() -> None:
    responses = questionnaire_responses_of(_view())
    assert [pathway_of_response(r["id"]) for r in responses] == [PATHWAY_ID] * len(responses)
    for other in ("not-a-response", PATHWAY_ID, f"{PATHWAY_ID}-", f"{PATHWAY_ID}-a/b", "pathway-x-diary-1-1"):
        assert pathway_of_response(other) is None


def test_metadata_and_errors_are_valid() -> None:
    statement = validated(capability_statement("2026-12-05"))
    types = [r["type"] for r in statement["rest"][0]["resource"]]
    assert types == ["Task", "Appointment", "QuestionnaireResponse"]
    interactions = [i["code"] for r in statement["rest"][0]["resource"] for i in r["interaction"]]
    assert interactions == ["read", "read", "read"]
    assert validated(operation_outcome(404, "No pathway has this id."))["issue"][0]["code"] == "not-found"
