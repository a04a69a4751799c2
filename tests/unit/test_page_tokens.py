"""Page tokens of the pathway list: a token this API issued continues its filters; anything else is 422."""

import base64
import hashlib
import hmac

import pytest

from api import page_tokens
from api.problems import Problem

QUERY = "WorkflowType = 'PatientPathway' AND PathwayStage = 'closed'"
SECRET = b"0123456789abcdef0123456789abcdef"
CURSOR = b'{"StartTime":"2026-11-25T10:00:00Z","RunID":"0a1b"}'


def refusal(query: str, token: str) -> Problem:
    with pytest.raises(Problem) as refused:
        page_tokens.read(SECRET, query, token)
    return refused.value


def test_an_issued_token_gives_back_temporals_cursor() -> None:
    token = page_tokens.issue(SECRET, QUERY, CURSOR)
    assert token is not None
    assert page_tokens.read(SECRET, QUERY, token) == CURSOR


def test_no_cursor_is_no_token_and_no_token_is_the_first_page() -> None:
    assert page_tokens.issue(SECRET, QUERY, None) is None
    assert page_tokens.issue(SECRET, QUERY, b"") is None
    assert page_tokens.read(SECRET, QUERY, None) is None


@pytest.mark.parametrize(
    "junk",
    [
        "bm90LWEtdG9rZW4=",  # base64 of "not-a-token"
        "not base64 at all!",
        "",
        "é",
        base64.urlsafe_b64encode(CURSOR).decode(),  # Temporal's cursor itself, unsealed
        "A" * 5000,
    ],
)
def test_junk_is_refused_with_422(junk: str) -> None:
    problem = refusal(QUERY, junk)
    assert (problem.status, problem.slug) == (422, "invalid-page-token")


def test_a_token_for_other_filters_is_refused() -> None:
    token = page_tokens.issue(SECRET, QUERY, CURSOR)
    assert token is not None
    assert refusal("WorkflowType = 'PatientPathway'", token).status == 422


def test_a_tampered_cursor_is_refused() -> None:
    token = page_tokens.issue(SECRET, QUERY, CURSOR)
    assert token is not None
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[-1] ^= 1
    assert refusal(QUERY, base64.urlsafe_b64encode(bytes(raw)).decode()).status == 422


def test_a_token_forged_without_the_secret_is_refused() -> None:
    """Whoever knows the token format but not the secret cannot make one (the HMAC is keyed)."""
    forged_digest = hmac.new(b"a guessed secret", QUERY.encode() + b"\x00" + CURSOR, hashlib.sha256)
    forged = base64.urlsafe_b64encode(forged_digest.digest()[:16] + CURSOR).decode()
    assert refusal(QUERY, forged).status == 422
    unkeyed = hashlib.sha256(QUERY.encode() + b"\x00" + CURSOR).digest()[:16]
    assert refusal(QUERY, base64.urlsafe_b64encode(unkeyed + CURSOR).decode()).status == 422
