"""The codec server as the production compose stack runs it: the Temporal UI passes the signed-in user's
access token, which the server checks with the clinic's OpenID provider (here a stand-in served over HTTP),
with or without the application database for API keys."""

import asyncio
from collections.abc import AsyncIterator, Callable

import asyncpg
import httpx
import pytest
import uvicorn
from google.protobuf import json_format
from starlette.types import ASGIApp
from temporalio.api.common.v1 import Payloads

from codec_server.app import create_codec_app
from config.settings import Settings
from tests.codec_keys import TEST_DATA_CONVERTER, TEST_KEYS
from tests.integration.conftest import API_KEY
from tests.integration.processes import free_port
from tests.oidc_provider import AUDIENCE, Provider

UI = "https://temporal.clinic.example"


async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """`app` served on a free port of 127.0.0.1 until the loop over this ends."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(scope="module")
async def provider() -> AsyncIterator[Provider]:
    idp = Provider()
    async for url in serving(idp.app()):
        idp.issuer = url
        yield idp


def token_settings(issuer: str) -> Settings:
    return Settings(
        database_url=None,
        codec_cors_origins=UI,
        codec_oidc_issuer=issuer,
        codec_oidc_audiences=f"{AUDIENCE},temporal-ui-admin",
    )


@pytest.fixture(scope="module")
async def tokens_only(provider: Provider) -> AsyncIterator[str]:
    """As in docker-compose.yml: no database, tokens of the provider only."""
    async for url in serving(create_codec_app(token_settings(provider.issuer), TEST_KEYS)):
        yield url


@pytest.fixture(scope="module")
async def both(provider: Provider, pool: asyncpg.Pool) -> AsyncIterator[str]:
    """Tokens of the provider, and API keys from the database."""
    async for url in serving(create_codec_app(token_settings(provider.issuer), TEST_KEYS, pool=pool)):
        yield url


async def sealed_body(text: str) -> dict[str, object]:
    payloads = await TEST_DATA_CONVERTER.encode([text])
    body: dict[str, object] = json_format.MessageToDict(Payloads(payloads=payloads))
    return body


async def decode(url: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(f"{url}/decode", json=await sealed_body("a pathway's answer"), headers=headers)


def bearer(credential: str) -> str:
    return f"Bearer {credential}"


async def test_the_uis_access_token_decodes(tokens_only: str, provider: Provider) -> None:
    answer = await decode(tokens_only, Authorization=bearer(provider.token()), Origin=UI)
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == UI
    [plain] = json_format.Parse(answer.text, Payloads()).payloads
    assert plain.data == b'"a pathway\'s answer"'


@pytest.mark.parametrize(
    "credential",
    [
        lambda p: p.token(aud="another-application"),
        lambda p: p.token(exp=1_000),
        lambda p: Provider(issuer=p.issuer).token(),  # signed by someone else
        lambda p: API_KEY,  # no database here: API keys are not taken
    ],
    ids=["audience", "expired", "forged", "api key"],
)
async def test_anything_but_a_valid_token_is_refused(
    tokens_only: str, provider: Provider, credential: Callable[[Provider], str]
) -> None:
    answer = await decode(tokens_only, Authorization=bearer(credential(provider)))
    assert answer.status_code == 401, answer.text
    assert (await decode(tokens_only)).status_code == 401


async def test_the_preflight_allows_the_token_header_for_the_uis_origin(tokens_only: str) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.options(
            f"{tokens_only}/decode",
            headers={
                "Origin": UI,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,authorization-extras,content-type",
            },
        )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == UI


async def test_without_a_database_there_is_no_sign_in_page(tokens_only: str) -> None:
    async with httpx.AsyncClient(base_url=tokens_only) as http:
        assert "This codec server takes the access token" in (await http.get("/")).text
        assert (await http.post("/sign-in", data={"key": API_KEY})).status_code == 404
        assert (await http.get("/healthz")).status_code == 200


async def test_with_a_database_tokens_and_api_keys_both_decode(both: str, provider: Provider) -> None:
    assert (await decode(both, Authorization=bearer(provider.token()))).status_code == 200
    assert (await decode(both, Authorization=bearer(API_KEY))).status_code == 200


async def test_an_unreachable_provider_answers_503_not_401(provider: Provider) -> None:
    gone = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    async for url in serving(create_codec_app(token_settings(gone), TEST_KEYS)):
        answer = await decode(url, Authorization=bearer(provider.token()))
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "10"


async def test_wrong_tokens_do_not_lock_the_address_out(provider: Provider) -> None:
    # Behind a reverse proxy every browser has the proxy's address: one stale token must not lock all out.
    settings = token_settings(provider.issuer).model_copy(update={"auth_failures_allowed": 2})
    async for url in serving(create_codec_app(settings, TEST_KEYS)):
        for _ in range(5):
            stale = await decode(url, Authorization=bearer(provider.token(exp=1_000)))
            assert stale.status_code == 401, stale.text
        assert (await decode(url, Authorization=bearer(provider.token()))).status_code == 200
