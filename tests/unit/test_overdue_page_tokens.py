"""An overdue listing's page token carries the instant of its first page, which the token's HMAC covers."""

from datetime import UTC, datetime

import pytest

from api import page_tokens
from api.problems import Problem
from api.routes.pathways import _split_as_of

SECRET = b"s" * 32


def test_the_instant_and_the_token_are_split_apart() -> None:
    assert _split_as_of(None) == (None, None)
    assert _split_as_of("abc") == (None, "abc")
    assert _split_as_of("1767225600.abc") == (datetime(2026, 1, 1, tzinfo=UTC), "abc")


def test_a_token_whose_instant_was_changed_is_refused() -> None:
    query = "NextActionDue < '2026-01-01T00:00:00.000000Z'"
    token = page_tokens.issue(SECRET, query, b"cursor")
    assert token is not None
    as_of, proper = _split_as_of(f"1767225601.{token}")  # one second later than the query it was issued for
    assert as_of == datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
    with pytest.raises(Problem):
        page_tokens.read(SECRET, "NextActionDue < '2026-01-01T00:00:01.000000Z'", proper)
    assert page_tokens.read(SECRET, query, proper) == b"cursor"
