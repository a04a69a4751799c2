"""Asserting a problem+json answer (RFC 9457) and reading it back."""

from typing import Any

import httpx


def assert_problem(response: httpx.Response, status: int, problem_type: str) -> dict[str, Any]:
    """The response is `status` problem+json of `problem_type`; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert (body["type"], body["status"]) == (problem_type, status)
    return body
