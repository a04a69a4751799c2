"""The API's metrics: served on a port of their own, its requests by route template, and the operations
gauges following a clinic's pathways and the outbox (real dev server, embedded PostgreSQL, the worker)."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
import uvicorn
from prometheus_client import CollectorRegistry
from temporalio.client import Client

from api.app import create_app
from api.ops_metrics import OpsMetrics
from config.settings import Settings
from tests.integration.conftest import API_KEY
from tests.integration.polling import next_action_is, poll_view
from tests.integration.processes import free_port
from tests.referrals import referral_body


@dataclass(frozen=True)
class MeteredApi:
    api: httpx.AsyncClient
    """The API over HTTP, with the key."""
    metrics_url: str


@pytest.fixture
async def metered(pool: asyncpg.Pool, temporal: Client, worker: None) -> AsyncIterator[MeteredApi]:
    """The demo API served by uvicorn (so its lifespan starts the metrics endpoint) with metrics on."""
    port, metrics_port = free_port(), free_port()
    settings = Settings(profile="demo", update_timeout_seconds=20, api_metrics_port=metrics_port)
    app = create_app(settings, pool=pool, temporal=temporal)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the API did not start"
        await asyncio.sleep(0.05)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {API_KEY}"}
        ) as api:
            yield MeteredApi(api, f"http://127.0.0.1:{metrics_port}/metrics")
    finally:
        server.should_exit = True
        await serving


async def test_requests_are_served_by_route_template_on_the_metrics_port_only(metered: MeteredApi) -> None:
    unknown = f"pathway-{uuid.uuid4()}"
    assert (await metered.api.get(f"/v1/pathways/{unknown}")).status_code == 404
    assert (await metered.api.get("/healthz")).status_code == 200
    assert (await metered.api.get("/metrics")).status_code == 404  # not on the API's own port
    async with httpx.AsyncClient() as http:
        served = (await http.get(metered.metrics_url, timeout=5)).text
    assert 'dvr_api_requests_total{method="GET",route="/v1/pathways/{pathway_id}",status="404"} 1.0' in served
    assert 'dvr_api_requests_total{method="GET",route="/healthz",status="200"} 1.0' in served
    assert 'dvr_api_requests_total{method="GET",route="unmatched",status="404"} 1.0' in served
    assert 'dvr_api_request_duration_seconds_bucket{le="0.01",method="GET",route="/healthz"}' in served
    assert unknown not in served
    for gauge in ("dvr_pathways_open", "dvr_pathways_needing_attention", "dvr_outbox_messages"):
        assert f"# TYPE {gauge} gauge" in served


Sample = Callable[[str, dict[str, str]], float | None]


async def recount_until(
    ops: OpsMetrics, registry: CollectorRegistry, what: str, check: Callable[[Sample], bool]
) -> None:
    """Recounts (as the API's task does every interval) until `check` holds on the gauges; bounded."""
    deadline = asyncio.get_running_loop().time() + 45
    while True:
        await ops.refresh()
        if check(registry.get_sample_value):
            return
        assert asyncio.get_running_loop().time() < deadline, f"the gauges never showed {what}"
        await asyncio.sleep(0.2)


@pytest.fixture
async def clinic(pool: asyncpg.Pool) -> str:
    """A clinic of the test's own, so that the gauges' counts for it are this test's pathways alone."""
    site = f"metrics-{uuid.uuid4().hex[:8]}"
    await pool.execute(
        "insert into clinics (site, name, timezone) values ($1, 'Metrics test', 'America/Phoenix')", site
    )
    return site


async def test_the_gauges_follow_a_clinics_pathway_into_attention_and_out(
    metered: MeteredApi, pool: asyncpg.Pool, temporal: Client, clinic: str
) -> None:
    api = metered.api
    # The MRI review is due 3 h after it is asked for: 15 seconds in the demo profile.
    policy = await api.put(f"/v1/clinics/{clinic}/policy", json={"mri_review_due": "PT3H"})
    assert policy.status_code == 200, policy.text
    body = referral_body(f"REF-METRICS-{uuid.uuid4().hex[:10]}") | {"clinic_site": clinic}
    created = await api.post("/v1/referrals", json=body)
    assert created.status_code == 201, created.text
    pathway_id = created.json()["pathway_id"]
    await poll_view(api, pathway_id, "mri review due", next_action_is("mri_review"))

    registry = CollectorRegistry()
    ops = OpsMetrics(registry, pool, temporal)
    site = {"clinic_site": clinic}

    def at(stage: str) -> dict[str, str]:
        return site | {"stage": stage}

    await recount_until(
        ops, registry, "the pathway at its MRI review", lambda v: v("dvr_pathways_open", at("mri")) == 1
    )
    assert registry.get_sample_value("dvr_pathways_open", at("intake")) == 0
    assert registry.get_sample_value("dvr_pathways_needing_attention", site) == 0
    await recount_until(
        ops,
        registry,
        "the late MRI review needing attention",
        lambda v: (
            v("dvr_pathways_needing_attention", site) == 1
            and v("dvr_pathways_next_action_overdue", site) == 1
        ),
    )
    assert registry.get_sample_value("dvr_pathways_open", at("mri")) == 1

    withdrawn = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "test over"})
    assert withdrawn.status_code == 200, withdrawn.text
    await recount_until(
        ops,
        registry,
        "the closed pathway gone",
        lambda v: v("dvr_pathways_open", at("mri")) == 0 and v("dvr_pathways_needing_attention", site) == 0,
    )
    assert registry.get_sample_value("dvr_ops_metrics_refreshed_timestamp_seconds", {}) is not None


async def test_the_outbox_gauges_count_waiting_and_failed_messages(
    pool: asyncpg.Pool, temporal: Client
) -> None:
    registry = CollectorRegistry()
    ops = OpsMetrics(registry, pool, temporal)
    await ops.refresh()

    def outbox(status: str) -> float:
        value = registry.get_sample_value("dvr_outbox_messages", {"status": status})
        assert value is not None
        return value

    before = {status: outbox(status) for status in ("pending", "failed")}
    keys = [f"metrics-test:{uuid.uuid4()}" for _ in range(2)]
    await pool.executemany(
        "insert into outbox (message_key, pathway_id, recipient, template, status, created_at)"
        " values ($1, 'pathway-metrics-test', 'staff', 'staff_attention', $2, now() - interval '10 minutes')",
        [(keys[0], "pending"), (keys[1], "failed")],
    )
    try:
        await ops.refresh()
        assert outbox("pending") == before["pending"] + 1
        assert outbox("failed") == before["failed"] + 1
        oldest = registry.get_sample_value("dvr_outbox_oldest_unsent_age_seconds", {})
        assert oldest is not None and oldest >= 600
    finally:
        await pool.execute("delete from outbox where message_key = any($1::text[])", keys)


async def test_a_failed_recount_keeps_the_last_values_and_is_counted(
    pool: asyncpg.Pool, temporal: Client
) -> None:
    registry = CollectorRegistry()
    ops = OpsMetrics(registry, pool, temporal)
    await ops.refresh()
    before = registry.get_sample_value("dvr_outbox_messages", {"status": "failed"})

    class Unreachable:
        async def fetch(self, *args: object, **kwargs: object) -> None:
            raise OSError("connection refused")

    ops._pool = Unreachable()  # type: ignore[assignment]
    async with ops.recounting(3600):  # the API's task: it recounts at once, then every hour
        deadline = asyncio.get_running_loop().time() + 10
        while registry.get_sample_value("dvr_ops_metrics_refresh_failures_total", {}) != 1:
            assert asyncio.get_running_loop().time() < deadline, "the failed recount was not counted"
            await asyncio.sleep(0.05)
    assert registry.get_sample_value("dvr_outbox_messages", {"status": "failed"}) == before
