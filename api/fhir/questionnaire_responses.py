"""Each diary report and check-in answer as a FHIR `QuestionnaireResponse`. The pain item is coded LOINC
72514-3 (0-10 numeric rating) in the questionnaire each response contains; its linkId is that code.

R4 names no `Task` among `basedOn`'s targets, so a response names its pathway by its id, `<pathway_id>-...`,
and is found through the pathway (`GET /fhir/Task/{pathway_id}/QuestionnaireResponse`)."""

from typing import Any

from api.fhir.codes import ANSWER_SYSTEM, LOINC, PAIN_SCORE, PAIN_SCORE_DISPLAY, fhir_id, patient
from domain.check_ins import CheckInStatus
from domain.view import OutcomeCheckInView, PathwayView

PAIN_ITEM: dict[str, Any] = {
    "linkId": PAIN_SCORE,
    "code": [{"system": LOINC, "code": PAIN_SCORE, "display": PAIN_SCORE_DISPLAY}],
    "text": "Pain now, 0 (none) to 10 (worst imaginable)",
    "type": "integer",
}
_RETURNED_TO_WORK: dict[str, Any] = {"linkId": "returned-to-work", "text": "Back at work?", "type": "boolean"}
_RED_FLAGS: dict[str, Any] = {"linkId": "red-flags", "text": "Red flags", "type": "choice", "repeats": True}
_WORK_STATUS: dict[str, Any] = {"linkId": "work-status", "text": "Work status", "type": "choice"}
_PGIC: dict[str, Any] = {
    "linkId": "pgic",
    "text": "Patient global impression of change, 1 to 7",
    "type": "integer",
}

QUESTIONNAIRES: dict[str, list[dict[str, Any]]] = {
    "pain-diary": [PAIN_ITEM],
    "return-check": [PAIN_ITEM],
    "follow-up": [PAIN_ITEM, _RETURNED_TO_WORK, _RED_FLAGS],
    "outcome-check-in": [PAIN_ITEM, _WORK_STATUS, _PGIC, _RED_FLAGS],
}


def _questionnaire(name: str) -> dict[str, Any]:
    return {"resourceType": "Questionnaire", "id": name, "status": "active", "item": QUESTIONNAIRES[name]}


def _response(
    view: PathwayView,
    rid: str,
    questionnaire: str,
    answers: list[tuple[dict[str, Any], list[dict[str, Any]]]],
) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "id": rid,
        "contained": [_questionnaire(questionnaire)],
        "questionnaire": f"#{questionnaire}",
        "status": "completed",
        "subject": patient(view.patient_ref),
        "source": patient(view.patient_ref),
        "item": [
            {"linkId": item["linkId"], "text": item["text"], "answer": values}
            for item, values in answers
            if values
        ],
    }


def _coding(code: str) -> dict[str, Any]:
    return {"valueCoding": {"system": ANSWER_SYSTEM, "code": code}}


def _pain(pain: int | None) -> list[dict[str, Any]]:
    return [] if pain is None else [{"valueInteger": pain}]


def questionnaire_responses_of(view: PathwayView) -> list[dict[str, Any]]:
    responses: list[dict[str, Any]] = []
    for block in view.blocks or [view.relief_check]:
        for number, report in enumerate(block.reports, start=1):
            rid = f"{view.pathway_id}-diary-{block.block_number}-{number}"
            response = _response(view, rid, "pain-diary", [(PAIN_ITEM, _pain(report.pain))])
            responses.append(response | {"authored": report.at.isoformat()})
        if block.return_check_pain is not None:
            rid = f"{view.pathway_id}-return-{block.block_number}"
            response = _response(view, rid, "return-check", [(PAIN_ITEM, _pain(block.return_check_pain))])
            if block.returned_at is not None:
                response["authored"] = block.returned_at.isoformat()
            responses.append(response)
    follow_up = view.follow_up
    if follow_up.status is CheckInStatus.ANSWERED:
        worked = [] if follow_up.returned_to_work is None else [{"valueBoolean": follow_up.returned_to_work}]
        answers = [
            (PAIN_ITEM, _pain(follow_up.pain)),
            (_RETURNED_TO_WORK, worked),
            (_RED_FLAGS, [_coding(flag) for flag in follow_up.red_flags]),
        ]
        responses.append(_response(view, f"{view.pathway_id}-follow-up", "follow-up", answers))
    responses.extend(_outcome(view, c) for c in view.outcomes if c.status is CheckInStatus.ANSWERED)
    return responses


def _outcome(view: PathwayView, check_in: OutcomeCheckInView) -> dict[str, Any]:
    answers = [
        (PAIN_ITEM, _pain(check_in.pain)),
        (_WORK_STATUS, [] if check_in.work_status is None else [_coding(check_in.work_status)]),
        (_PGIC, [] if check_in.pgic is None else [{"valueInteger": check_in.pgic}]),
        (_RED_FLAGS, [_coding(flag) for flag in check_in.red_flags]),
    ]
    rid = f"{view.pathway_id}-outcome-{fhir_id(check_in.check_in)}"
    response = _response(view, rid, "outcome-check-in", answers)
    if check_in.answered_at is not None:
        response["authored"] = check_in.answered_at.isoformat()
    return response
