"""`/v1/webhooks` against the real API and PostgreSQL: subscriptions, their deliveries, and who reaches them.

Deliveries are put into the outbox as the pathway does (db/webhook_outbox.py); no sender runs here, so they
stay as the test leaves them.
"""

import base64
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client import CollectorRegistry
from temporalio.client import Client

from api.app import create_app
from api.ops_metrics import OpsMetrics
from config.settings import Settings
from domain.webhook_events import EventType
from tests.integration.conftest import READ_ONLY_KEY
from tests.integration.limited_keys import limited_api
from tests.integration.problems import assert_problem
from tests.integration.webhooks import (
    Hooks,
    deliveries_of,
    forget_subscriptions,
    new_pathway_id,
    own_clinic,
    record,
    subscribe,
)

RECEIVER = "https://receiver.test/hooks/dvr?token=abc"
STATUSES = ("pending", "failed")


@pytest.fixture
async def hooks(pool: asyncpg.Pool, temporal: Client, worker: None) -> AsyncIterator[Hooks]:
    async with own_clinic(pool, temporal) as own:
        yield own


@pytest.fixture(autouse=True)
async def _clean_slate(pool: asyncpg.Pool) -> AsyncIterator[None]:
    yield
    await forget_subscriptions(pool)


async def test_a_subscription_shows_its_secret_once(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    body = {"url": RECEIVER, "event_types": ["pathway.started", "pathway.closed"], "description": "EHR sync"}
    created = await api.post("/v1/webhooks", json=body)
    assert created.status_code == 201, created.text
    made = created.json()
    assert created.headers["location"] == f"/v1/webhooks/{made['id']}"
    assert made["url"] == RECEIVER and made["event_types"] == body["event_types"]
    assert (made["description"], made["clinic_sites"]) == ("EHR sync", None)
    assert made["secret"].startswith("whsec_")
    assert len(base64.b64decode(made["secret"].removeprefix("whsec_"))) == 32

    one = await api.get(f"/v1/webhooks/{made['id']}")
    assert one.status_code == 200
    assert one.json() == {k: v for k, v in made.items() if k != "secret"}
    listed = (await api.get("/v1/webhooks")).json()["items"]
    assert [s["id"] for s in listed] == [made["id"]]
    assert made["secret"] not in one.text + str(listed)
    audited = await pool.fetchrow(
        "select actor, detail from audit_log"
        " where action = 'webhook.create' and detail->>'subscription_id' = $1",
        made["id"],
    )
    assert audited is not None and audited["detail"]["host"] == "receiver.test"
    assert "token" not in str(audited["detail"])  # the receiver's own token stays out of the log


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"event_types": []}, "event_types must name at least one event type."),
        ({"event_types": ["pathway.exploded"]}, "event_types[0] is not an event type"),
        ({"event_types": ["pathway.started", "pathway.started"]}, "more than once"),
        ({"url": "/relative/path"}, "absolute http:// or https:// URL"),
        ({"url": "ftp://receiver.test/x"}, "absolute http:// or https:// URL"),
        ({"url": "https://user:pw@receiver.test/x"}, "user name or password"),
        ({"url": "https://receiver.test/" + "x" * 2048}, "longer than 2048 characters"),
        ({"url": "https://receiver.test/a b"}, "spaces, control characters"),
        ({"url": "https://169.254.169.254/latest/meta-data/"}, "not a public address"),
        ({"url": "https://localhost:5432/"}, "names this machine"),
        ({"url": "https://receiver.test:port/x"}, "not a valid URL"),
    ],
)
async def test_an_invalid_subscription_is_refused_with_the_reason(
    api: httpx.AsyncClient, pool: asyncpg.Pool, change: dict[str, Any], detail: str
) -> None:
    body = {"url": RECEIVER, "event_types": ["pathway.started"]} | change
    problem = assert_problem(await api.post("/v1/webhooks", json=body), 422, "/problems/invalid-webhook")
    assert detail in problem["detail"]
    assert "token=abc" not in problem["detail"]
    assert await pool.fetchval("select count(*) from webhook_subscriptions where deleted_at is null") == 0


async def test_a_body_that_does_not_match_the_contract_is_refused(api: httpx.AsyncClient) -> None:
    for body in (
        {"url": RECEIVER},
        {"url": 5, "event_types": []},
        {"url": RECEIVER, "event_types": [], "x": 1},
    ):
        assert_problem(await api.post("/v1/webhooks", json=body), 422, "/problems/invalid-request")


async def test_http_receivers_need_the_demo_profile_or_the_setting(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client
) -> None:
    body = {"url": "http://receiver.test/hook", "event_types": ["pathway.started"]}
    assert (await api.post("/v1/webhooks", json=body)).status_code == 201  # the demo profile
    for settings, status in ((Settings(), 422), (Settings(webhook_allow_http=True), 201)):
        app = create_app(settings, pool=pool, temporal=temporal)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test", headers=api.headers
        ) as clinical:
            answer = await clinical.post("/v1/webhooks", json=body)
            assert answer.status_code == status, answer.text
            if status == 422:
                assert answer.json()["detail"] == "url must use https://."


async def test_the_scope_is_required(api: httpx.AsyncClient) -> None:
    made = await subscribe(api, RECEIVER)
    reader = {"Authorization": f"Bearer {READ_ONLY_KEY}"}
    for method, path in (
        ("POST", "/v1/webhooks"),
        ("GET", "/v1/webhooks"),
        ("GET", f"/v1/webhooks/{made['id']}"),
        ("DELETE", f"/v1/webhooks/{made['id']}"),
        ("GET", f"/v1/webhooks/{made['id']}/deliveries"),
    ):
        body = {"url": RECEIVER, "event_types": ["pathway.started"]} if method == "POST" else None
        answer = await api.request(method, path, json=body, headers=reader)
        problem = assert_problem(answer, 403, "/problems/forbidden")
        assert "webhooks:admin" in problem["detail"]
    assert (await api.get(f"/v1/webhooks/{made['id']}")).status_code == 200


async def test_a_retried_create_makes_one_subscription_with_one_secret(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    key = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    first = await subscribe(api, RECEIVER, ["pathway.started"], **key)
    again = await subscribe(api, RECEIVER, ["pathway.started"], **key)
    assert again == first
    assert await pool.fetchval("select count(*) from webhook_subscriptions where deleted_at is null") == 1
    other = {"url": RECEIVER, "event_types": ["pathway.closed"]}
    reused = await api.post("/v1/webhooks", json=other, headers=key)
    assert_problem(reused, 422, "/problems/idempotency-key-reused")
    assert await pool.fetchval("select count(*) from webhook_subscriptions where deleted_at is null") == 1


async def test_a_secret_is_not_read_back_after_a_day_or_once_deleted(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    """Whoever holds the key and guesses the Idempotency-Key cannot read a subscription's secret again."""
    key = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    body = {"url": RECEIVER, "event_types": ["pathway.started"]}
    made = await subscribe(api, RECEIVER, ["pathway.started"], **key)
    await pool.execute(
        "update webhook_subscriptions set created_at = now() - interval '25 hours' where id = $1",
        uuid.UUID(made["id"]),
    )
    late = await api.post("/v1/webhooks", json=body, headers=key)
    assert made["secret"] not in late.text
    assert_problem(late, 409, "/problems/secret-no-longer-shown")

    key = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    made = await subscribe(api, RECEIVER, ["pathway.started"], **key)
    assert (await api.delete(f"/v1/webhooks/{made['id']}")).status_code == 204
    gone = await api.post("/v1/webhooks", json=body, headers=key)
    assert made["secret"] not in gone.text
    assert_problem(gone, 409, "/problems/secret-no-longer-shown")


async def test_a_url_that_is_not_text_is_refused_not_a_500(api: httpx.AsyncClient) -> None:
    raw = '{"url": "https://receiver.test/\\ud800", "event_types": ["pathway.started"]}'
    answer = await api.post("/v1/webhooks", content=raw, headers={"content-type": "application/json"})
    problem = assert_problem(answer, 422, "/problems/invalid-webhook")
    assert "lone surrogates" in problem["detail"]


async def test_a_delete_cancels_what_was_still_to_go_and_is_idempotent(
    hooks: Hooks, pool: asyncpg.Pool
) -> None:
    made = await subscribe(hooks.api, RECEIVER)
    await record(pool, new_pathway_id(), 3, site=hooks.site)
    await pool.execute(
        "update webhook_deliveries set status = 'delivered' where id ="
        " (select id from webhook_deliveries where subscription_id = $1 order by event_seq limit 1)",
        uuid.UUID(made["id"]),
    )
    path = f"/v1/webhooks/{made['id']}"
    deleted = await hooks.api.delete(path)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert [d["status"] for d in await deliveries_of(pool, made["id"])] == [
        "delivered",
        "cancelled",
        "cancelled",
    ]
    assert (await hooks.api.delete(path)).status_code == 204  # again: as the first
    assert_problem(await hooks.api.get(path), 404, "/problems/webhook-not-found")
    assert made["id"] not in (await hooks.api.get("/v1/webhooks")).text
    await record(pool, new_pathway_id(), site=hooks.site)
    assert len(await deliveries_of(pool, made["id"])) == 3  # nothing more for it
    assert_problem(await hooks.api.delete(f"/v1/webhooks/{uuid.uuid4()}"), 404, "/problems/webhook-not-found")
    for malformed in ("not-a-uuid", "1", "%00"):
        assert (await hooks.api.get(f"/v1/webhooks/{malformed}")).status_code in (404, 422)
        assert (await hooks.api.delete(f"/v1/webhooks/{malformed}")).status_code in (404, 422)
    audited = await pool.fetchval(
        "select count(*) from audit_log where action = 'webhook.delete' and detail->>'subscription_id' = $1",
        made["id"],
    )
    assert audited == 1


async def test_a_site_limited_key_reaches_only_its_own_subscriptions(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client, worker: None
) -> None:
    everywhere = await subscribe(api, RECEIVER)
    async with limited_api(pool, temporal, "webhooks") as (site, limited):
        ours = await subscribe(limited, RECEIVER)
        assert ours["clinic_sites"] == [site]
        assert [s["id"] for s in (await limited.get("/v1/webhooks")).json()["items"]] == [ours["id"]]
        for method, suffix in (("GET", ""), ("GET", "/deliveries"), ("DELETE", "")):
            answer = await limited.request(method, f"/v1/webhooks/{everywhere['id']}{suffix}")
            assert_problem(answer, 404, "/problems/webhook-not-found")
        assert (await api.get(f"/v1/webhooks/{ours['id']}")).status_code == 200  # the unlimited key: all

        elsewhere, here = new_pathway_id(), new_pathway_id()
        await record(pool, elsewhere)  # at the demo clinic: not its site
        await record(pool, here, site=site)
        assert [d["pathway_id"] for d in await deliveries_of(pool, ours["id"])] == [here]
        to_everywhere = {d["pathway_id"] for d in await deliveries_of(pool, everywhere["id"])}
        assert {elsewhere, here} <= to_everywhere  # (and whatever pathways left running recorded)
        assert (await limited.delete(f"/v1/webhooks/{ours['id']}")).status_code == 204
    assert (await api.get(f"/v1/webhooks/{everywhere['id']}")).status_code == 200


async def test_deliveries_are_listed_newest_first_by_page_and_status(
    hooks: Hooks, pool: asyncpg.Pool
) -> None:
    made = await subscribe(hooks.api, RECEIVER)
    pathway_id = new_pathway_id()
    # One transaction each, so each is newer than the one before.
    event_ids = [(await record(pool, pathway_id, site=hooks.site))[0] for _ in range(5)]
    path = f"/v1/webhooks/{made['id']}/deliveries"
    seen: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(5):
        page = await hooks.api.get(path, params={"page_size": 2} | ({"page_token": token} if token else {}))
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        token = page.json()["next_page_token"]
        if token is None:
            break
    assert [d["event_id"] for d in seen] == event_ids[::-1]
    first = seen[-1]
    assert first["status"] == "pending" and first["attempts"] == 0 and first["next_attempt_at"] is not None
    assert first["pathway_id"] == pathway_id and first["event_type"] == EventType.STAGE_CHANGED.value

    await pool.execute(
        "update webhook_deliveries set status = 'failed', attempts = 8, last_status_code = 500,"
        " last_error = 'HTTP 500' where id = $1",
        uuid.UUID(first["delivery_id"]),
    )
    failed = (await hooks.api.get(path, params={"status": "failed"})).json()
    assert [d["delivery_id"] for d in failed["items"]] == [first["delivery_id"]]
    shown = failed["items"][0]
    assert (shown["last_status_code"], shown["last_error"], shown["next_attempt_at"]) == (
        500,
        "HTTP 500",
        None,
    )
    assert len((await hooks.api.get(path, params={"status": "pending"})).json()["items"]) == 4

    token = (await hooks.api.get(path, params={"page_size": 1})).json()["next_page_token"]
    for params in ({"page_token": token, "status": "pending"}, {"page_token": "bm90IG91cnM="}):
        assert_problem(await hooks.api.get(path, params=params), 422, "/problems/invalid-page-token")
    assert_problem(await hooks.api.get(path, params={"status": "lost"}), 422, "/problems/invalid-request")


async def test_redeliver_sends_a_settled_delivery_again_and_leaves_a_pending_one(
    hooks: Hooks, pool: asyncpg.Pool
) -> None:
    made = await subscribe(hooks.api, RECEIVER)
    await record(pool, new_pathway_id(), 3, site=hooks.site)
    pending, failed, delivered = (r["id"] for r in await deliveries_of(pool, made["id"]))
    await pool.execute(
        "update webhook_deliveries set status = 'failed', attempts = 8,"
        " next_attempt_at = now() - interval '1 day' where id = $1",
        failed,
    )
    await pool.execute(
        "update webhook_deliveries set status = 'delivered', attempts = 1, delivered_at = now()"
        " where id = $1",
        delivered,
    )
    base = f"/v1/webhooks/{made['id']}/deliveries"
    for delivery_id in (failed, delivered):
        answer = await hooks.api.post(f"{base}/{delivery_id}/redeliver")
        assert answer.status_code == 202, answer.text
        again = answer.json()
        assert (again["status"], again["attempts"], again["delivered_at"]) == ("pending", 0, None)
        assert again["next_attempt_at"] is not None
    untouched = await hooks.api.post(f"{base}/{pending}/redeliver")
    assert (untouched.status_code, untouched.json()["status"]) == (202, "pending")
    assert untouched.json()["attempts"] == 0

    await hooks.api.delete(f"/v1/webhooks/{made['id']}")
    await pool.execute(
        "update webhook_subscriptions set deleted_at = null where id = $1", uuid.UUID(made["id"])
    )
    cancelled = await hooks.api.post(f"{base}/{pending}/redeliver")
    assert_problem(cancelled, 409, "/problems/webhook-delivery-cancelled")
    unknown = await hooks.api.post(f"{base}/{uuid.uuid4()}/redeliver")
    assert_problem(unknown, 404, "/problems/webhook-delivery-not-found")


async def test_the_business_gauges_count_pending_and_failed_deliveries(
    hooks: Hooks, pool: asyncpg.Pool, temporal: Client
) -> None:
    registry = CollectorRegistry()
    ops = OpsMetrics(registry, pool, temporal)

    async def counted() -> dict[str, float | None]:
        await ops.refresh()
        return {s: registry.get_sample_value("dvr_webhook_deliveries", {"status": s}) for s in STATUSES}

    before = await counted()
    made = await subscribe(hooks.api, RECEIVER)
    await record(pool, new_pathway_id(), 3, site=hooks.site)
    await pool.execute(
        "update webhook_deliveries set status = 'failed' where id ="
        " (select id from webhook_deliveries where subscription_id = $1 order by event_seq limit 1)",
        uuid.UUID(made["id"]),
    )
    after = await counted()
    assert after["pending"] == (before["pending"] or 0) + 2
    assert after["failed"] == (before["failed"] or 0) + 1
