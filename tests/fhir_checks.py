"""Holding the FHIR JSON the API answers to the fhir.resources models (R4B: the resources used are the same as
R4's)."""

from typing import Any

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.task import Task

MODELS: dict[str, Any] = {
    "Appointment": Appointment,
    "Bundle": Bundle,
    "CapabilityStatement": CapabilityStatement,
    "OperationOutcome": OperationOutcome,
    "QuestionnaireResponse": QuestionnaireResponse,
    "Task": Task,
}


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, once its model accepts it (each Bundle entry's resource is checked by its own model too);
    raises pydantic's ValidationError otherwise."""
    MODELS[resource["resourceType"]].model_validate(resource)
    for entry in resource.get("entry", []):
        validated(entry["resource"])
    return resource
