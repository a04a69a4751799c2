"""The `CapabilityStatement` (`GET /fhir/metadata`): exactly the reads this server answers. The per-pathway
Bundles (`GET [base]/Task/{pathway_id}/Appointment`, `.../QuestionnaireResponse`) are no interaction R4 names
(a `search-type` would promise `GET [base]/Appointment?...`), so they are described in `documentation`."""

from typing import Any

from api.fhir.codes import FHIR_JSON, FHIR_VERSION


def _by_pathway(resource: str) -> str:
    return (
        f"Read by id (GET [base]/{resource}/{{id}}, each Bundle entry's fullUrl). A pathway's are listed by"
        f" GET [base]/Task/{{pathway_id}}/{resource}, a searchset Bundle (no search parameters)."
    )


RESOURCES: list[dict[str, Any]] = [
    {
        "type": "Task",
        "documentation": "A pathway: status, stage as businessStatus, next action's performer and due time",
        "interaction": [{"code": "read"}],
    },
    {
        "type": "Appointment",
        "documentation": f"The pathway's appointments. {_by_pathway('Appointment')}",
        "interaction": [{"code": "read"}],
    },
    {
        "type": "QuestionnaireResponse",
        "documentation": "Each diary report and check-in answer; pain coded LOINC 72514-3."
        f" {_by_pathway('QuestionnaireResponse')}",
        "interaction": [{"code": "read"}],
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
