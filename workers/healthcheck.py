"""Container health checks, for the Dockerfile's HEALTHCHECK (the image has no curl).

`python -m workers.healthcheck http URL`: healthy when URL answers 2xx in time (the API's `/readyz`).

`python -m workers.healthcheck worker`: healthy when a worker in this container has polled the pathway task
queue lately. Temporal lists a task queue's recent pollers by identity, `pid@hostname` by default, and every
container has a hostname of its own, so this tells one worker container (of `--scale worker=N`) from another:
a worker that is up but no longer polls (lost its connection, stuck) turns unhealthy, which a process check
would not see.

Exit status 0 is healthy, 1 unhealthy; one line on stderr says why.
"""

import argparse
import asyncio
import os
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

TIMEOUT_SECONDS = 5.0
# Pollers re-poll at least once a minute (the server ends a long poll after about 60 s); three minutes leaves
# room for a slow cycle without calling a stalled worker healthy for long.
POLLED_WITHIN = timedelta(minutes=3)


class Unhealthy(Exception):
    """The check failed; the message says why (no secrets, no PHI: a URL or a task queue name)."""


def check_http(url: str, timeout: float = TIMEOUT_SECONDS) -> None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as err:
        raise Unhealthy(f"{url} answered {err.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise Unhealthy(f"{url} unreachable: {err}") from None
    if not 200 <= status < 300:
        raise Unhealthy(f"{url} answered {status}")


def polls_from_this_host(
    pollers: Iterable[tuple[str, datetime | None]], hostname: str, now: datetime, within: timedelta
) -> bool:
    """Whether any (identity, last access) poller is a process on `hostname` seen within `within`."""
    return any(
        identity.endswith(f"@{hostname}") and seen is not None and now - seen <= within
        for identity, seen in pollers
    )


async def check_worker(hostname: str | None = None) -> None:
    # Imported here: the HTTP check runs every few seconds and needs none of this.
    from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
    from temporalio.client import Client

    from config.settings import Settings
    from workflows import TASK_QUEUE

    settings = Settings()
    try:
        client = await asyncio.wait_for(
            Client.connect(settings.temporal_address, namespace=settings.temporal_namespace),
            timeout=TIMEOUT_SECONDS,
        )
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=settings.temporal_namespace,
                task_queue=TaskQueue(name=TASK_QUEUE, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            timeout=timedelta(seconds=TIMEOUT_SECONDS),
        )
    except Exception as err:
        raise Unhealthy(f"Temporal at {settings.temporal_address} unreachable: {err!r}"[:300]) from None
    pollers = [
        (p.identity, p.last_access_time.ToDatetime(UTC) if p.HasField("last_access_time") else None)
        for p in described.pollers
    ]
    host = hostname or socket.gethostname()
    if not polls_from_this_host(pollers, host, datetime.now(UTC), POLLED_WITHIN):
        raise Unhealthy(f"no worker on {host} has polled task queue {TASK_QUEUE} lately")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.healthcheck", description=__doc__.split("\n")[0])
    checks = parser.add_subparsers(dest="check", required=True)
    http = checks.add_parser("http", help="the URL answers 2xx")
    http.add_argument("url")
    checks.add_parser("worker", help="a worker in this container polls the pathway task queue")
    args = parser.parse_args(argv)
    try:
        if args.check == "http":
            check_http(args.url)
        else:
            asyncio.run(check_worker())
    except Unhealthy as err:
        print(f"unhealthy: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    status = main()
    # The Temporal client's native runtime may still be retrying a connection that timed out here; letting the
    # interpreter finalize around it can abort the process (exit 134, a core dump in the health log). A probe
    # has nothing to clean up: leave at once with the status Docker expects, 0 or 1.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
