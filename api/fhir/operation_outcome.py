"""Errors under /fhir as a FHIR `OperationOutcome`, with the status the JSON API gives the same error."""

from typing import Any

_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    422: "invalid",
    429: "throttled",
    503: "transient",
}


def operation_outcome(status: int, detail: str) -> dict[str, Any]:
    """`detail` is the problem's PHI-free detail."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": _ISSUE_CODES.get(status, "exception"),
                "diagnostics": detail,
            }
        ],
    }
