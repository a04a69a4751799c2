"""How a validator refuses an Update: an ApplicationError whose type the API maps to a status."""

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from domain.refusals import Refusal

# How far a report's or record's own time may run ahead of the workflow's clock.
CLOCK_SKEW = timedelta(minutes=5)


def refuse(kind: Refusal, message: str) -> ApplicationError:
    """The error a validator raises; `message` reaches the caller, so it names no patient."""
    return ApplicationError(message, type=kind.value, non_retryable=True)
