"""The codec server's browser sessions while its database does not answer: a 503 to retry, never a 500."""

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from codec_server.app import create_codec_app
from codec_server.session import COOKIE, issue, session_secret
from config.settings import Settings
from tests.codec_keys import TEST_KEYS

UI = "http://127.0.0.1:8233"


class RefusingPool:
    """A pool whose database refuses every connection."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    fetchrow = fetch = fetchval = execute = acquire = _refuse


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = create_codec_app(Settings(codec_cors_origins=UI), TEST_KEYS, pool=RefusingPool())  # type: ignore[arg-type]
    cookie = issue(session_secret(TEST_KEYS), str(uuid.uuid4()), "a key hash", datetime.now(UTC))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://codec.test") as client:
        client.cookies.set(COOKIE, cookie)
        yield client


async def test_decoding_with_a_session_is_a_503_the_ui_may_read(http: httpx.AsyncClient) -> None:
    answer = await http.post("/decode", json={"payloads": []}, headers={"Origin": UI})
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"]
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["access-control-allow-origin"] == UI
    assert answer.headers["access-control-allow-credentials"] == "true"


async def test_the_page_is_a_503(http: httpx.AsyncClient) -> None:
    answer = await http.get("/")
    assert answer.status_code == 503 and answer.headers["retry-after"]


async def test_signing_out_deletes_the_cookie_and_says_the_server_did_not_record_it(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    cookie = http.cookies[COOKIE]
    with caplog.at_level(logging.WARNING):
        answer = await http.post("/sign-out")
    assert answer.status_code == 503 and answer.headers["retry-after"]
    assert f'{COOKIE}=""' in answer.headers["set-cookie"] and "Max-Age=0" in answer.headers["set-cookie"]
    assert "could not record the sign-out" in answer.text and "sign in and out again" in answer.text
    assert "sign-out not recorded" in caplog.text
    assert cookie not in caplog.text
