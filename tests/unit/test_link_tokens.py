"""A patient's link token opens its link until it expires; any change to it, or another secret, opens none."""

import base64
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.link_tokens import TOKEN_CHARS, LinkToken, TokenProblem, seal, unseal

SECRET = b"a-secret-shared-by-every-api-process"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LINK = uuid.UUID("7b0e4a52-35a0-4c0e-9f5e-0a8f4d2f3b11")


def test_a_token_opens_its_link_until_it_expires() -> None:
    expires = NOW + timedelta(days=30)
    token = seal(SECRET, LINK, expires)
    assert len(token) == TOKEN_CHARS and token.isascii() and "=" not in token
    assert unseal(SECRET, token, NOW) == LinkToken(LINK, expires)
    assert unseal(SECRET, token, expires - timedelta(seconds=1)) == LinkToken(LINK, expires)
    assert unseal(SECRET, token, expires) == TokenProblem.EXPIRED
    assert unseal(SECRET, token, expires + timedelta(days=400)) == TokenProblem.EXPIRED


def test_a_token_carries_only_the_link_id_and_expiry() -> None:
    token = seal(SECRET, LINK, NOW)
    raw = base64.urlsafe_b64decode(token + "=")
    assert raw[:16] == LINK.bytes and len(raw) == 32


def test_another_secret_opens_nothing() -> None:
    token = seal(SECRET, LINK, NOW + timedelta(days=1))
    assert unseal(b"another-secret", token, NOW) == TokenProblem.NOT_OURS


def test_a_longer_life_cannot_be_forged() -> None:
    """The expiry is sealed: moving it on (or the link id) breaks the HMAC, so it is not ours, not expired."""
    token = seal(SECRET, LINK, NOW - timedelta(days=1))
    raw = bytearray(base64.urlsafe_b64decode(token + "="))
    raw[16:20] = int((NOW + timedelta(days=365)).timestamp()).to_bytes(4, "big")
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    assert unseal(SECRET, forged, NOW) == TokenProblem.NOT_OURS


@given(position=st.integers(0, TOKEN_CHARS - 1), replacement=st.sampled_from("AQgw_-09zZ"))
def test_any_changed_character_is_refused(position: int, replacement: str) -> None:
    token = seal(SECRET, LINK, NOW + timedelta(days=1))
    changed = token[:position] + replacement + token[position + 1 :]
    if changed != token:
        assert unseal(SECRET, changed, NOW) == TokenProblem.NOT_OURS


@given(st.text(max_size=80))
def test_junk_is_refused_without_error(junk: str) -> None:
    assert unseal(SECRET, junk, NOW) == TokenProblem.NOT_OURS


def test_a_truncated_or_padded_token_is_refused() -> None:
    token = seal(SECRET, LINK, NOW + timedelta(days=1))
    for changed in (token[:-1], token + "A", token + "=", " " + token[1:]):
        assert unseal(SECRET, changed, NOW) == TokenProblem.NOT_OURS
