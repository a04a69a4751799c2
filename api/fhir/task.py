"""A pathway as a FHIR `Task`: its status, its stage as `businessStatus`, next action's performer, due."""

from typing import Any

from api.fhir.codes import (
    ACTION_SYSTEM,
    ACTOR_SYSTEM,
    OUTCOME_SYSTEM,
    PATHWAY_ID_SYSTEM,
    STAGE_SYSTEM,
    coded,
    patient,
)
from domain.stages import Actor, Outcome, PathwayStatus
from domain.view import PathwayView

# A pathway that ended without the procedure (not a candidate, declined, withdrawn, no-show) is `cancelled`:
# the work it stood for will not be done; `statusReason` says why.
# Why it ended, as the outcome code and a fixed display: never the reason staff typed (`outcome_reason` is
# free text, which may name the patient or where they live, and FHIR resources are copied into EHRs).
OUTCOME_DISPLAY = {
    Outcome.DVR_COMPLETED: "DVR completed",
    Outcome.NOT_CANDIDATE: "Not a candidate",
    Outcome.DECLINED: "Declined by the patient",
    Outcome.WITHDRAWN: "Withdrawn",
    Outcome.NO_SHOW: "Did not attend",
}

TASK_STATUS = {
    PathwayStatus.ACTIVE: "in-progress",
    PathwayStatus.COMPLETED: "completed",
    PathwayStatus.CLOSED: "cancelled",
}


def task_of(view: PathwayView) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": view.pathway_id,
        "identifier": [{"system": PATHWAY_ID_SYSTEM, "value": view.pathway_id}],
        "status": TASK_STATUS[view.status],
        "businessStatus": coded(STAGE_SYSTEM, view.stage.value, view.stage.value),
        "intent": "order",
        "description": "DVR pathway",
        "for": patient(view.patient_ref),
    }
    if view.outcome is not None:
        display = OUTCOME_DISPLAY[view.outcome]
        resource["statusReason"] = coded(OUTCOME_SYSTEM, view.outcome.value, display, display=display)
    if view.timeline:
        resource["authoredOn"] = view.timeline[0].at.isoformat()
        resource["lastModified"] = view.timeline[-1].at.isoformat()
    if (action := view.next_action) is not None:
        resource["performerType"] = [coded(ACTOR_SYSTEM, action.actor.value, action.actor.value)]
        # The patient by a logical reference (patient_ref); clinicians and staff are a role, named only.
        owner = (
            patient(view.patient_ref) if action.actor is Actor.PATIENT else {"display": action.actor.value}
        )
        resource["owner"] = owner
        resource["code"] = coded(ACTION_SYSTEM, action.action, action.action)
        if action.due_at is not None:
            resource["restriction"] = {"period": {"end": action.due_at.isoformat()}}
    return resource
