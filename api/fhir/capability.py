"""The `CapabilityStatement` (`GET /fhir/metadata`): exactly the reads this server answers."""

from typing import Any

from api.fhir.codes import FHIR_JSON, FHIR_VERSION

_BY_PATHWAY = "Found through the pathway: GET [base]/Task/{pathway_id}/{type} answers a searchset Bundle"

RESOURCES: list[dict[str, Any]] = [
    {
        "type": "Task",
        "documentation": "A pathway: status, stage as businessStatus, next action's performer and due time",
        "interaction": [{"code": "read"}],
    },
    {
        "type": "Appointment",
        "documentation": f"The pathway's appointments. {_BY_PATHWAY}",
        "interaction": [{"code": "search-type", "documentation": _BY_PATHWAY}],
    },
    {
        "type": "QuestionnaireResponse",
        "documentation": f"Each diary report and check-in answer; pain coded LOINC 72514-3. {_BY_PATHWAY}",
        "interaction": [{"code": "search-type", "documentation": _BY_PATHWAY}],
    },
]


def capability_statement(date: str) -> dict[str, Any]:
    """`date`: when the statement was last changed, ISO 8601."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "DVR Pathway Orchestrator",
        "kind": "instance",
        "implementation": {"description": "DVR Pathway Orchestrator, read-only FHIR R4 view"},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read-only. Bearer API key with the scope pathways:read; a site-limited key"
                " reaches only its sites' pathways (others answer 404).",
                "security": {"description": "Authorization: Bearer <API key>, scope pathways:read"},
                "resource": RESOURCES,
            }
        ],
    }
