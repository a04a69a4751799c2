"""A stopping worker lets the activities under way finish, and the stack waits longer than that before it
kills the worker."""

from datetime import timedelta

import asyncpg
import pytest
from temporalio.client import Client

from tests.integration.conftest import RecordingProvider
from workers.stack import WORKER_STOP_TIMEOUT
from workers.worker import GRACEFUL_SHUTDOWN, build_worker


@pytest.mark.usefixtures("worker")  # the session's worker, running beside it as in the whole suite
async def test_the_worker_has_a_graceful_shutdown_and_the_stack_waits_longer(
    temporal: Client, pool: asyncpg.Pool
) -> None:
    provider = RecordingProvider()
    queue = "graceful-shutdown-test"  # the session's worker holds the stack's queue on this client
    worker = build_worker(temporal, pool, provider=provider, staff_address="s@x.example", task_queue=queue)
    assert worker.config()["graceful_shutdown_timeout"] == GRACEFUL_SHUTDOWN >= timedelta(seconds=10)
    assert GRACEFUL_SHUTDOWN.total_seconds() < WORKER_STOP_TIMEOUT
