"""The code systems and references the FHIR resources share."""

from typing import Any

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
LOINC = "http://loinc.org"
PAIN_SCORE = "72514-3"
PAIN_SCORE_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"

# The project's own code systems (stages, actors, appointment kinds, answers), as URNs.
_SYSTEM = "urn:dvr-pathway-orchestrator"
STAGE_SYSTEM = f"{_SYSTEM}:stage"
OUTCOME_SYSTEM = f"{_SYSTEM}:outcome"
ACTOR_SYSTEM = f"{_SYSTEM}:actor"
ACTION_SYSTEM = f"{_SYSTEM}:next-action"
APPOINTMENT_KIND_SYSTEM = f"{_SYSTEM}:appointment-kind"
ANSWER_SYSTEM = f"{_SYSTEM}:answer"
PATHWAY_ID_SYSTEM = f"{_SYSTEM}:pathway-id"
# The patient's opaque `patient_ref`, as the identifier of a logical reference: this server serves no Patient.
PATIENT_REF_SYSTEM = f"{_SYSTEM}:patient-ref"


def coded(system: str, code: str, text: str | None = None, *, display: str | None = None) -> dict[str, Any]:
    """A CodeableConcept of one coding. `text` and `display` are fixed wording, never what someone typed."""
    coding = {"system": system, "code": code} | ({} if display is None else {"display": display})
    concept: dict[str, Any] = {"coding": [coding]}
    if text is not None:
        concept["text"] = text
    return concept


def patient(patient_ref: str) -> dict[str, Any]:
    """The patient by their opaque `patient_ref` only (DESIGN.md §6): no name, MRN or contact. A logical
    reference (an identifier, no `reference`): there is no Patient resource here to point at."""
    return {"identifier": {"system": PATIENT_REF_SYSTEM, "value": patient_ref}}


def task(pathway_id: str) -> dict[str, str]:
    return {"reference": f"Task/{pathway_id}"}


def fhir_id(text: str) -> str:
    """A FHIR id ([A-Za-z0-9.-]{1,64}) made of project names, which may hold underscores."""
    return text.replace("_", "-")
