"""The codec server over real HTTP: authentication, CORS for the configured UI origin only, and the
`/encode` and `/decode` contract of the Temporal UI and CLI."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from codec_server.app import create_codec_app
from codec_server.session import COOKIE
from config.codec_keys import parse_keys
from config.settings import Settings
from config.temporal import data_converter
from db.api_clients import add_client
from domain.results import Withdrawal
from tests.codec_keys import TEST_DATA_CONVERTER, TEST_KEYS
from tests.integration.conftest import API_KEY, READ_ONLY_KEY
from tests.integration.processes import free_port

UI = "http://127.0.0.1:8233"
CANARY = "canary-moved-to-Flagstaff-with-Wendeline"
OTHER_KEY = "other:" + "A" * 43 + "="
SITE_KEY = "dvr_codec-key-limited-to-the-phoenix-site"


@pytest.fixture(scope="module")
async def codec_server(pool: asyncpg.Pool) -> AsyncIterator[str]:
    """The codec server on a free port, answering browsers of the UI's origin."""
    settings = Settings(codec_cors_origins=f"{UI}, https://temporal.clinic.example/")
    app = create_codec_app(settings, TEST_KEYS, pool=pool)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the codec server did not start"
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


@pytest.fixture
async def http(codec_server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=codec_server) as client:
        yield client


def body(*payloads: Payload) -> dict[str, Any]:
    """`{"payloads": [...]}` in protobuf JSON, as the UI sends it."""
    json: dict[str, Any] = json_format.MessageToDict(Payloads(payloads=payloads))
    return json


def payloads_of(answer: httpx.Response) -> list[Payload]:
    return list(json_format.Parse(answer.text, Payloads()).payloads)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def encrypted(value: object) -> Payload:
    [payload] = await TEST_DATA_CONVERTER.encode([value])
    return payload


@pytest.mark.parametrize("path", ["/encode", "/decode"])
@pytest.mark.parametrize(
    "headers", [{}, bearer("dvr_not-a-key-that-anyone-was-ever-given-1")], ids=["none", "wrong"]
)
async def test_without_a_valid_key_nothing_is_encoded_or_decoded(
    http: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> None:
    answer = await http.post(path, json=body(await encrypted(CANARY)), headers=headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert CANARY not in answer.text


async def test_a_key_without_the_history_scope_is_forbidden(http: httpx.AsyncClient) -> None:
    answer = await http.post("/decode", json=body(await encrypted(CANARY)), headers=bearer(READ_ONLY_KEY))
    assert answer.status_code == 403
    assert "history:decode" in answer.json()["detail"]


async def test_a_key_limited_to_clinic_sites_is_forbidden(
    http: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    # A payload does not say whose site it is: a key for one site would read every site's history.
    await add_client(pool, "codec-one-site", SITE_KEY, ["history:decode"], ["phoenix-main"])
    answer = await http.post("/decode", json=body(await encrypted(CANARY)), headers=bearer(SITE_KEY))
    assert answer.status_code == 403
    assert "limited to clinic sites" in answer.json()["detail"]
    signed_in = await http.post("/sign-in", data={"key": SITE_KEY})
    assert signed_in.status_code == 403 and COOKIE not in signed_in.headers.get("set-cookie", "")


async def test_decode_gives_back_what_the_worker_encrypted(http: httpx.AsyncClient) -> None:
    written = await encrypted(Withdrawal(reason=CANARY))
    answer = await http.post(
        "/decode?preserveStorageRefs=true",
        json=body(written),
        headers=bearer(API_KEY) | {"X-Namespace": "default"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    [decoded] = payloads_of(answer)
    assert decoded.metadata["encoding"] == b"json/plain"
    assert TEST_DATA_CONVERTER.payload_converter.from_payloads([decoded], [Withdrawal]) == [
        Withdrawal(reason=CANARY)
    ]


async def test_what_encode_made_decodes_and_holds_no_plain_text(http: httpx.AsyncClient) -> None:
    [original] = TEST_DATA_CONVERTER.payload_converter.to_payloads([CANARY])
    encoded = await http.post("/encode", json=body(original), headers=bearer(API_KEY))
    assert encoded.status_code == 200, encoded.text
    assert CANARY not in encoded.text
    [sealed] = payloads_of(encoded)
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    assert await TEST_DATA_CONVERTER.decode([sealed], [str]) == [CANARY]
    decoded = await http.post("/decode", json=encoded.json(), headers=bearer(API_KEY))
    assert payloads_of(decoded) == [original]


async def test_payloads_from_before_the_codec_come_back_unchanged(http: httpx.AsyncClient) -> None:
    [unencrypted] = TEST_DATA_CONVERTER.payload_converter.to_payloads(["written in the clear"])
    answer = await http.post("/decode", json=body(unencrypted), headers=bearer(API_KEY))
    assert payloads_of(answer) == [unencrypted]


async def test_a_payload_of_a_key_not_held_is_refused_naming_the_key_id_only(http: httpx.AsyncClient) -> None:
    [foreign] = await data_converter(parse_keys([OTHER_KEY], "test")).encode([CANARY])
    answer = await http.post("/decode", json=body(foreign), headers=bearer(API_KEY))
    assert answer.status_code == 422
    assert "'other'" in answer.json()["detail"]
    assert CANARY not in answer.text and "A" * 43 not in answer.text


async def test_a_body_that_is_not_payloads_is_a_bad_request(http: httpx.AsyncClient) -> None:
    answer = await http.post("/decode", content=b'{"payloads": 3}', headers=bearer(API_KEY))
    assert answer.status_code == 400


async def test_the_ui_origins_preflight_is_allowed_with_the_headers_the_ui_sends(
    http: httpx.AsyncClient,
) -> None:
    answer = await http.options(
        "/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == UI
    assert answer.headers["access-control-allow-credentials"] == "true"
    allowed = {h.strip().lower() for h in answer.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "x-namespace"} <= allowed
    assert "POST" in answer.headers["access-control-allow-methods"]


async def test_another_origins_preflight_and_answers_carry_no_permission(http: httpx.AsyncClient) -> None:
    for origin in ("http://evil.example", "http://127.0.0.1:8000", "http://localhost:8233"):
        preflight = await http.options(
            "/decode",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 400
        assert "access-control-allow-origin" not in preflight.headers
        answer = await http.post(
            "/decode", json=body(await encrypted(CANARY)), headers=bearer(API_KEY) | {"Origin": origin}
        )
        assert "access-control-allow-origin" not in answer.headers


async def test_a_browser_signed_in_on_the_page_decodes_with_its_cookie_alone(http: httpx.AsyncClient) -> None:
    written = await encrypted(CANARY)
    page = await http.get("/")
    assert page.status_code == 200 and 'name="key"' in page.text
    refused = await http.post("/sign-in", data={"key": READ_ONLY_KEY})
    assert refused.status_code == 403 and COOKIE not in refused.headers.get("set-cookie", "")

    signed_in = await http.post("/sign-in", data={"key": API_KEY})
    assert signed_in.status_code == 303
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert API_KEY not in cookie
    assert "This browser is signed in" in (await http.get("/")).text

    answer = await http.post("/decode", json=body(written), headers={"Origin": UI})
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == UI
    assert await TEST_DATA_CONVERTER.payload_codec.decode([written]) == payloads_of(answer)  # type: ignore[union-attr]

    await http.post("/sign-out")
    assert (await http.post("/decode", json=body(written))).status_code == 401


async def test_a_forged_session_cookie_is_refused(http: httpx.AsyncClient) -> None:
    http.cookies.set(COOKIE, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    answer = await http.post("/decode", json=body(await encrypted(CANARY)))
    assert answer.status_code == 401


async def test_its_liveness_needs_no_key(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}


async def test_a_copied_session_cookie_stops_working_at_sign_out(http: httpx.AsyncClient) -> None:
    assert (await http.post("/sign-in", data={"key": API_KEY})).status_code == 303
    copied = http.cookies[COOKIE]
    await http.post("/sign-out")
    async with httpx.AsyncClient(base_url=str(http.base_url), cookies={COOKIE: copied}) as thief:
        assert (await thief.post("/decode", json=body(await encrypted(CANARY)))).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        "update api_clients set revoked_at = now() where name = $1",
        "update api_clients set scopes = array['pathways:read'] where name = $1",
        "update api_clients set clinic_sites = array['phoenix-main'] where name = $1",
        # `dvr-admin keys rotate`, as after a leak: whoever signed in with the old key is signed out.
        "update api_clients set key_hash = md5(random()::text) where name = $1",
    ],
    ids=["revoked", "scope taken", "limited to a site", "key rotated"],
)
async def test_a_session_ends_with_what_its_key_may_do(
    http: httpx.AsyncClient, pool: asyncpg.Pool, change: str
) -> None:
    unique = uuid.uuid4().hex  # the database outlives one run
    name, key = f"codec-session-{unique}", f"dvr_codec-session-key-{unique}"
    await add_client(pool, name, key, ["history:decode"], None)
    assert (await http.post("/sign-in", data={"key": key})).status_code == 303
    assert (await http.post("/decode", json=body(await encrypted(CANARY)))).status_code == 200
    await pool.execute(change, name)
    assert (await http.post("/decode", json=body(await encrypted(CANARY)))).status_code == 401
    assert "This browser is signed in" not in (await http.get("/")).text


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
    ids=["other origin", "null origin", "cross-site"],
)
async def test_another_site_can_neither_sign_a_browser_in_nor_out(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    forged = await http.post("/sign-in", data={"key": API_KEY}, headers=headers)
    assert forged.status_code == 403 and COOKIE not in forged.headers.get("set-cookie", "")
    own = {"Origin": str(http.base_url).rstrip("/"), "Sec-Fetch-Site": "same-origin"}
    assert (await http.post("/sign-in", data={"key": API_KEY}, headers=own)).status_code == 303
    assert (await http.post("/sign-out", headers=headers)).status_code == 403
    assert (await http.post("/decode", json=body(await encrypted(CANARY)))).status_code == 200
    assert (await http.post("/sign-out", headers={"Origin": own["Origin"]})).status_code == 303
    assert (await http.post("/decode", json=body(await encrypted(CANARY)))).status_code == 401
