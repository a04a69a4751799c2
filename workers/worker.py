"""The worker: runs pathway workflows and their activities on task queue `dvr-pathway`.

Run alone with `python -m workers.worker`: it needs a reachable Temporal server (`DVR_TEMPORAL_ADDRESS`) and
the application database, `DATABASE_URL` or else the embedded one of the local stack running from the same
folder (config/database.py). With `DVR_WORKER_METRICS_PORT` it serves the Temporal SDK's metrics there
(config/temporal_runtime.py). Beside the Temporal worker it runs the webhook sender
(delivery/webhook_sender.py), which delivers the webhook outbox's deliveries to their receivers, and the
outbox sweep (workers/outbox_sweep.py), which settles the messages no attempt can send any more.
"""

import asyncio
import signal
from datetime import timedelta

import asyncpg
import httpx
import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.notifications import NotificationActivities
from activities.patient_links import PatientLinks
from activities.providers.base import NotificationProvider
from activities.providers.from_settings import provider_from_settings
from activities.scheduling import SchedulingActivities
from activities.webhook_events import WebhookEventActivities
from config.codec_keys import CodecKeyError
from config.database import database_url_or_exit
from config.logging import configure_logging
from config.metrics import worker_metrics_address
from config.settings import Settings
from config.temporal import connect
from config.temporal_runtime import temporal_runtime
from config.tracing import TracingSettingError, tracing_from_settings
from db.pool import create_pool
from delivery.webhook_sender import running_sender
from domain.notifications import Channel
from workers.activity_log_context import ActivityLogContext
from workers.outbox_sweep import running_sweep
from workflows import TASK_QUEUE
from workflows.registry import WORKFLOWS, workflow_runner

log = structlog.get_logger()
GRACEFUL_SHUTDOWN = timedelta(seconds=10)
"""How long a stopping worker (SIGINT, SIGTERM) lets the activities under way finish before it cancels them;
the local stack waits longer than this before it kills the worker."""


def build_worker(
    client: Client,
    pool: asyncpg.Pool,
    *,
    provider: NotificationProvider,
    staff_address: str,
    staff_urgent: tuple[Channel, str] | None = None,
    links: PatientLinks | None = None,
    task_queue: str = TASK_QUEUE,
    max_cached_workflows: int = Settings.model_fields["max_cached_workflows"].default,
    graceful_shutdown_timeout: timedelta = GRACEFUL_SHUTDOWN,
) -> Worker:
    """The worker: every workflow and activity, with the sticky cache sized for the pathways it holds; on
    shutdown, activities under way get `graceful_shutdown_timeout` to finish. Staff messages go to
    `staff_address`, urgent ones to `staff_urgent` (None: that mailbox too). Patients' links are made by
    `links` (None: on the default public URL)."""
    scheduling = SchedulingActivities(pool)
    events = WebhookEventActivities(pool)
    notifications = NotificationActivities(
        pool, provider, staff_address, staff_urgent=staff_urgent, links=links
    )
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(),
        activities=[
            scheduling.book_appointment,
            scheduling.change_appointment_status,
            notifications.send_notification,
            notifications.record_undelivered,
            events.record_pathway_events,
        ],
        max_cached_workflows=max_cached_workflows,
        graceful_shutdown_timeout=graceful_shutdown_timeout,
        # The client's own interceptors apply as well: the SDK adds them to its workers.
        interceptors=[ActivityLogContext()],
    )


async def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    url = database_url_or_exit(settings, "the worker")
    metrics_address = worker_metrics_address(settings)
    try:
        tracing = tracing_from_settings(settings, "dvr-worker")
    except TracingSettingError as err:
        raise SystemExit(f"the worker cannot trace: {err}") from None
    try:
        client = await connect(
            settings,
            runtime=temporal_runtime(metrics_address),
            interceptors=tracing.interceptors if tracing is not None else (),
        )
    except CodecKeyError as err:
        raise SystemExit(f"the worker needs the payload codec keys: {err}") from None
    pool = await create_pool(url)
    async with httpx.AsyncClient() as http:  # the SMS gateway's connections, kept between messages
        provider = provider_from_settings(settings, http)
        worker = build_worker(
            client,
            pool,
            provider=provider,
            staff_address=settings.staff_email,
            staff_urgent=settings.staff_urgent_target(),
            links=PatientLinks(settings.link_base_url, timedelta(days=settings.patient_link_days)),
            max_cached_workflows=settings.max_cached_workflows,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info(
            "worker.started",
            task_queue=TASK_QUEUE,
            temporal=settings.temporal_address,
            provider=provider.name,
            metrics=f"http://{metrics_address}/metrics" if metrics_address else None,
            tracing=tracing is not None,
        )
        async with worker, running_sender(pool, url, settings), running_sweep(pool):
            await stop.wait()
            log.info("worker.stopping")
    await pool.close()
    if tracing is not None:
        tracing.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
