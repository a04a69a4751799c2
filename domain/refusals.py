"""Why a workflow refuses a step: one vocabulary for the validators and the API's error mapping."""

from enum import StrEnum


class Refusal(StrEnum):
    """The `type` of the ApplicationError an Update validator raises; the API maps each to a status."""

    WRONG_STAGE = "WrongStage"
    """The step belongs to another stage, was already recorded, or nothing is waiting for it (409)."""
    PATHWAY_CLOSED = "PathwayClosed"
    """The pathway has ended or is being withdrawn (409)."""
    INVALID_STEP = "InvalidStep"
    """The body is well-formed but not acceptable now, e.g. a time in the future (422)."""
    UNKNOWN_APPOINTMENT = "UnknownAppointment"
    """No appointment with that id belongs to the pathway (404)."""
    CONFLICTING_REPORT = "ConflictingReport"
    """The diary already holds another pain score at the report's recorded time (409)."""
