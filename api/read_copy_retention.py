"""Read copies (api/read_copy.py) do not outlive their pathways' histories: every hour the API deletes the
copies of pathways closed longer ago than the namespace's retention, after which Temporal deletes their
histories (README "Retention"), and those of open pathways whose copy was last stored as long ago (a copy is
only a cache: the next read stores it again).
The retention is read from Temporal each time, so a changed one applies from the next purge."""

import asyncio
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

import structlog
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from db.pool import Queryable
from db.read_copies import purge_copies
from delivery.task_stopping import running_while

log = structlog.get_logger()

PURGE_EVERY_SECONDS = 3600.0


async def retention_of(client: Client) -> timedelta:
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace), retry=True
    )
    return described.config.workflow_execution_retention_ttl.ToTimedelta()


async def purge_once(client: Client, conn: Queryable) -> int:
    """Deletes the copies past the namespace's retention; returns how many. A namespace without a retention
    (none set) deletes nothing."""
    retention = await retention_of(client)
    if retention <= timedelta(0):
        return 0
    return await purge_copies(conn, retention)


async def _run(client: Client, conn: Queryable, every_seconds: float) -> None:
    while True:
        try:
            if purged := await purge_once(client, conn):
                log.info("read_copies.purged", count=purged)
        except Exception as err:  # Temporal or PostgreSQL away: the next hour's purge catches up
            log.warning("read_copies.purge_failed", error=type(err).__name__)
        await asyncio.sleep(every_seconds)


def purging(
    client: Client, conn: Queryable, every_seconds: float = PURGE_EVERY_SECONDS
) -> AbstractAsyncContextManager[None]:
    """Purges now and every `every_seconds` while the block runs."""
    return running_while(_run(client, conn, every_seconds))
