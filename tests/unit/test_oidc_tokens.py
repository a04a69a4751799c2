"""The codec server's check of the Temporal UI's access tokens against the OpenID provider's keys."""

import asyncio
import base64
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from codec_server.oidc import OidcVerifier, ProviderUnreachable, is_jwt
from config.settings import Settings
from tests.oidc_provider import AUDIENCE, Provider, new_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def verifier(provider: Provider, clock: Clock) -> AsyncIterator[OidcVerifier]:
    async with httpx.AsyncClient(transport=provider.transport()) as http:
        yield OidcVerifier(provider.issuer, [AUDIENCE, "temporal-ui-admin"], http, clock=clock)


async def test_a_token_of_the_provider_for_the_ui_gives_its_subject(
    verifier: OidcVerifier, provider: Provider
) -> None:
    assert await verifier.subject(provider.token()) == "nurse-kim"
    assert await verifier.subject(provider.token(aud="temporal-ui-admin")) == "nurse-kim"


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-application"},
        {"iss": "https://another-idp.example"},
        {"exp": 1_000},  # long expired
        {"sub": None},
        {"exp": None},
    ],
    ids=["audience", "issuer", "expired", "no subject", "no expiry"],
)
async def test_a_token_with_the_wrong_claims_is_refused(
    verifier: OidcVerifier, provider: Provider, claims: dict[str, Any]
) -> None:
    assert await verifier.subject(provider.token(**claims)) is None


async def test_a_token_signed_with_another_key_under_a_published_key_id_is_refused(
    verifier: OidcVerifier, provider: Provider
) -> None:
    forger = Provider(issuer=provider.issuer)  # its own key-1
    assert await verifier.subject(forger.token()) is None


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


async def test_a_token_signed_with_the_public_key_as_a_shared_secret_or_unsigned_is_refused(
    verifier: OidcVerifier, provider: Provider
) -> None:
    claims = jwt.decode(provider.token(), options={"verify_signature": False})
    public = (
        provider.keys["key-1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    # Made by hand, as an attacker would: PyJWT itself refuses to sign with a public key as an HMAC secret.
    signed = (
        _b64(json.dumps({"alg": "HS256", "kid": "key-1"}).encode()) + b"." + _b64(json.dumps(claims).encode())
    )
    forged = signed + b"." + _b64(hmac.new(public, signed, hashlib.sha256).digest())
    assert await verifier.subject(forged.decode()) is None
    unsigned = jwt.encode(claims, key="", algorithm="none", headers={"kid": "key-1"})
    assert await verifier.subject(unsigned) is None


async def test_a_rotated_key_is_fetched_when_a_token_names_it_but_not_more_than_once_a_minute(
    verifier: OidcVerifier, provider: Provider, clock: Clock
) -> None:
    assert await verifier.subject(provider.token()) == "nurse-kim"
    assert provider.fetches == 1
    assert await verifier.subject(provider.token()) == "nurse-kim"
    assert provider.fetches == 1  # kept
    provider.keys["key-2"] = new_key()
    clock.now += 5
    assert await verifier.subject(provider.token("key-2")) is None  # too soon to ask again
    assert await verifier.subject(provider.token(headers={"kid": "made-up"})) is None
    assert provider.fetches == 1
    clock.now += 60
    assert await verifier.subject(provider.token("key-2")) == "nurse-kim"
    assert provider.fetches == 2


async def test_an_unreachable_provider_is_reported_not_taken_for_a_bad_token(provider: Provider) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(502))) as http:
        verifier = OidcVerifier(provider.issuer, [AUDIENCE], http)
        with pytest.raises(ProviderUnreachable):
            await verifier.subject(provider.token())


def test_api_keys_are_not_taken_for_tokens(provider: Provider) -> None:
    assert is_jwt(provider.token())
    assert not is_jwt("dvr_Zq3k8H1x-zz_9JpQk2m4N7s0aBcDeFgHiJkLmNoPqRs")
    assert not is_jwt("dvr_with.two.dots-but-no-json-header-in-it-1234")


def test_a_provider_without_an_audience_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="DVR_CODEC_OIDC_AUDIENCES"):
        Settings(codec_oidc_issuer="https://idp.clinic.example")
    given = Settings(codec_oidc_issuer="https://idp.clinic.example/", codec_oidc_audiences="ui, ui-admin,")
    assert given.codec_oidc_issuer == "https://idp.clinic.example"
    assert given.oidc_audiences == ["ui", "ui-admin"]


@pytest.mark.parametrize(
    "given",
    [
        "*",
        "null",
        "https://temporal.clinic.example, *",
        "temporal.clinic.example",
        "ftp://temporal.clinic.example",
        "https://temporal.clinic.example/ui",
        "https://temporal.clinic.example?x=1",
        "https://user@temporal.clinic.example",
        "https://temporal.clinic.example:99999",
        "https://",
    ],
)
def test_cors_origins_other_than_http_origins_are_refused_at_start(given: str) -> None:
    with pytest.raises(ValueError, match="DVR_CODEC_CORS_ORIGINS"):
        Settings(codec_cors_origins=given)


def test_cors_origins_are_taken_as_browsers_send_them() -> None:
    given = Settings(
        codec_cors_origins="http://127.0.0.1:8233, https://temporal.clinic.example/,http://[::1]:8233"
    )
    assert given.ui_origins == [
        "http://127.0.0.1:8233",
        "https://temporal.clinic.example",
        "http://[::1]:8233",
    ]


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("https://ui.example:443", "https://ui.example"),
        ("http://temporal.clinic.example:80/", "http://temporal.clinic.example"),
        ("http://[::1]:80", "http://[::1]"),
        ("HTTPS://UI.example", "https://ui.example"),
    ],
)
def test_cors_origins_a_browser_would_send_otherwise_are_refused_naming_its_form(
    given: str, canonical: str
) -> None:
    # A browser leaves the scheme's default port out of Origin, so such an entry would never match.
    with pytest.raises(ValueError, match=f"DVR_CODEC_CORS_ORIGINS.*\\(write {re.escape(canonical)}\\)"):
        Settings(codec_cors_origins=given)


def test_cors_origins_on_other_ports_keep_them() -> None:
    assert Settings(codec_cors_origins="https://ui.example:80,http://ui.example:443").ui_origins == [
        "https://ui.example:80",
        "http://ui.example:443",
    ]


@pytest.mark.parametrize("algorithm", ["ES256", "ES512", "EdDSA", "PS256"])
async def test_a_token_whose_algorithm_does_not_fit_its_key_is_refused_not_an_error(
    provider: Provider, clock: Clock, algorithm: str
) -> None:
    provider.publishes_alg = False  # the key says only that it is RSA
    claims = jwt.decode(provider.token(), options={"verify_signature": False})
    signed = (
        _b64(json.dumps({"alg": algorithm, "kid": "key-1"}).encode())
        + b"."
        + _b64(json.dumps(claims).encode())
    )
    token = (signed + b"." + _b64(b"\x01" * 64)).decode()
    async with httpx.AsyncClient(transport=provider.transport()) as http:
        verifier = OidcVerifier(provider.issuer, [AUDIENCE], http, clock=clock)
        assert await verifier.subject(token) is None
        assert await verifier.subject(provider.token()) == "nurse-kim"  # RS256 still fits


async def test_a_provider_naming_another_issuer_is_refused(provider: Provider, clock: Clock) -> None:
    provider.claimed_issuer = "https://another-idp.example"
    async with httpx.AsyncClient(transport=provider.transport()) as http:
        verifier = OidcVerifier(provider.issuer, [AUDIENCE], http, clock=clock)
        with pytest.raises(ProviderUnreachable, match="another-idp"):
            await verifier.subject(provider.token(iss="https://another-idp.example"))


async def test_after_a_failed_fetch_the_provider_is_left_alone_for_a_while(
    provider: Provider, clock: Clock
) -> None:
    calls = 0

    def down(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(502)

    async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as http:
        verifier = OidcVerifier(provider.issuer, [AUDIENCE], http, clock=clock)
        for _ in range(3):
            with pytest.raises(ProviderUnreachable):
                await verifier.subject(provider.token())
        assert calls == 1
        clock.now += 11
        with pytest.raises(ProviderUnreachable):
            await verifier.subject(provider.token())
        assert calls == 2


async def test_tokens_arriving_together_fetch_the_keys_once(provider: Provider, clock: Clock) -> None:
    served = provider.transport()

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)  # the others arrive while this one waits
        return await served.handle_async_request(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as http:
        verifier = OidcVerifier(provider.issuer, [AUDIENCE], http, clock=clock)
        found = await asyncio.gather(*(verifier.subject(provider.token()) for _ in range(5)))
    assert found == ["nurse-kim"] * 5
    assert provider.fetches == 1


@pytest.mark.parametrize("algorithm", [["RS256"], {"RS256": True}, 256, None])
async def test_a_token_whose_algorithm_is_not_a_name_is_refused_not_an_error(
    verifier: OidcVerifier, provider: Provider, algorithm: object
) -> None:
    claims = jwt.decode(provider.token(), options={"verify_signature": False})
    signed = (
        _b64(json.dumps({"alg": algorithm, "typ": "JWT", "kid": "key-1"}).encode())
        + b"."
        + _b64(json.dumps(claims).encode())
    )
    token = (signed + b"." + _b64(b"\x01" * 64)).decode()
    assert await verifier.subject(token) is None
