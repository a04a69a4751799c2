"""The worker container's health check against a real Temporal server: healthy while a worker on this host
polls the pathway task queue, unhealthy for a host with no worker (another replica's container)."""

import asyncio

import pytest
from temporalio.client import Client

from workers.healthcheck import Unhealthy, check_worker


@pytest.fixture
def settings_for(temporal: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check reads its Temporal address and namespace from the settings, as in the container."""
    monkeypatch.setenv("DVR_TEMPORAL_ADDRESS", temporal.service_client.config.target_host)
    monkeypatch.setenv("DVR_TEMPORAL_NAMESPACE", temporal.namespace)


@pytest.mark.usefixtures("worker", "settings_for")
async def test_a_polling_worker_on_this_host_is_healthy() -> None:
    # A worker just started has not polled yet (the container's start period allows for it): wait for its
    # first poll, bounded.
    for _ in range(50):
        try:
            await check_worker()
            return
        except Unhealthy:
            await asyncio.sleep(0.2)
    await check_worker()


@pytest.mark.usefixtures("worker", "settings_for")
async def test_a_host_without_a_worker_is_unhealthy() -> None:
    with pytest.raises(Unhealthy, match="no worker on another-replica has polled"):
        await check_worker(hostname="another-replica")


async def test_an_unreachable_temporal_is_unhealthy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVR_TEMPORAL_ADDRESS", "127.0.0.1:9")
    with pytest.raises(Unhealthy, match="unreachable"):
        await check_worker()
