"""A stopping worker lets the activities under way finish, and the stack waits longer than that before it
kills the worker."""

from datetime import timedelta

import asyncpg
from temporalio.client import Client

from tests.integration.conftest import RecordingProvider
from workers.stack import WORKER_STOP_TIMEOUT
from workers.worker import GRACEFUL_SHUTDOWN, build_worker


async def test_the_worker_has_a_graceful_shutdown_and_the_stack_waits_longer(
    temporal: Client, pool: asyncpg.Pool
) -> None:
    provider = RecordingProvider()
    worker = build_worker(temporal, pool, provider=provider, staff_address="staff@clinic.example")
    assert worker.config()["graceful_shutdown_timeout"] == GRACEFUL_SHUTDOWN >= timedelta(seconds=10)
    assert GRACEFUL_SHUTDOWN.total_seconds() < WORKER_STOP_TIMEOUT
