"""The gauges an operations lead watches: open pathways by clinic and stage, those needing a person, those
whose next action is overdue, the outbox's messages still to go out or given up, and the webhook deliveries
still to go out or given up.

They are recounted by one task, every `DVR_OPS_METRICS_INTERVAL_SECONDS`, never by a scrape: a scrape reads
the last count, so however many scrapers come and however often, Temporal's visibility store and PostgreSQL
see one recount per interval (workflows/pathway_counts.py, db/ops_counts.py say what each costs). Each query
has a deadline; a recount that fails keeps the last values, counts the failure, and logs its error type.
Labels are clinic sites and stages, a bounded set; no value names a patient.
"""

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge
from temporalio.client import Client

from db.ops_counts import (
    UNFINISHED,
    WEBHOOK_UNFINISHED,
    clinic_sites,
    outbox_counts,
    webhook_delivery_counts,
)
from delivery.task_stopping import running_while
from workflows.pathway_counts import OPEN_STAGES, count_clinic

log = structlog.get_logger()
QUERY_TIMEOUT_SECONDS = 5.0


class OpsMetrics:
    def __init__(self, registry: CollectorRegistry, pool: asyncpg.Pool, temporal: Client) -> None:
        self._pool, self._temporal = pool, temporal
        self._clinics: set[str] = set()
        self.open = Gauge(
            "dvr_pathways_open",
            "Running pathways, by clinic site and stage.",
            ["clinic_site", "stage"],
            registry=registry,
        )
        self.needing_attention = Gauge(
            "dvr_pathways_needing_attention",
            "Running pathways that need a person (NeedsAttention), by clinic site.",
            ["clinic_site"],
            registry=registry,
        )
        self.overdue = Gauge(
            "dvr_pathways_next_action_overdue",
            "Running pathways whose next action is past its due time (NextActionDue), by clinic site.",
            ["clinic_site"],
            registry=registry,
        )
        self.outbox = Gauge(
            "dvr_outbox_messages",
            "Outbox messages still to go out (pending, sending), given up on (failed) or gone on without"
            " (abandoned), by status.",
            ["status"],
            registry=registry,
        )
        self.oldest_unsent = Gauge(
            "dvr_outbox_oldest_unsent_age_seconds",
            "How long the oldest pending or sending outbox message has waited (0: none waits).",
            registry=registry,
        )
        self.webhook_deliveries = Gauge(
            "dvr_webhook_deliveries",
            "Webhook deliveries still to go out (pending) or given up on (failed), by status.",
            ["status"],
            registry=registry,
        )
        self.refreshed = Gauge(
            "dvr_ops_metrics_refreshed_timestamp_seconds",
            "When these gauges were last recounted in full (Unix time).",
            registry=registry,
        )
        self.failures = Counter(
            "dvr_ops_metrics_refresh_failures",
            "Recounts of these gauges that failed (the gauges keep their last values).",
            registry=registry,
        )

    async def refresh(self) -> None:
        """Recounts every gauge; raises when a count fails (the values set before it stay)."""
        timeout = timedelta(seconds=QUERY_TIMEOUT_SECONDS)
        counts = await outbox_counts(self._pool, timeout=QUERY_TIMEOUT_SECONDS)
        for status in UNFINISHED:
            self.outbox.labels(status.value).set(counts.by_status[status])
        self.oldest_unsent.set(counts.oldest_unsent_age_seconds)
        webhooks = await webhook_delivery_counts(self._pool, timeout=QUERY_TIMEOUT_SECONDS)
        for delivery_status in WEBHOOK_UNFINISHED:
            self.webhook_deliveries.labels(delivery_status.value).set(webhooks[delivery_status])
        sites = await clinic_sites(self._pool, timeout=QUERY_TIMEOUT_SECONDS)
        now = datetime.now(UTC)
        for site in sites:
            try:
                clinic = await count_clinic(self._temporal, site, now, timeout)
            except ValueError:
                log.warning("ops_metrics.clinic_skipped", reason="site not queryable")
                continue
            for stage in OPEN_STAGES:
                self.open.labels(site, stage.value).set(clinic.open_by_stage[stage])
            self.needing_attention.labels(site).set(clinic.needing_attention)
            self.overdue.labels(site).set(clinic.next_action_overdue)
        for gone in self._clinics - set(sites):  # a clinic removed: its series end rather than freeze
            for stage in OPEN_STAGES:
                self.open.remove(gone, stage.value)
            self.needing_attention.remove(gone)
            self.overdue.remove(gone)
        self._clinics = set(sites)
        self.refreshed.set(time.time())

    async def run(self, interval_seconds: float) -> None:
        """Recounts now and then every `interval_seconds`, until cancelled."""
        while True:
            try:
                await self.refresh()
            except Exception as err:
                self.failures.inc()
                log.warning("ops_metrics.refresh_failed", error=type(err).__name__)
            await asyncio.sleep(interval_seconds)

    def recounting(self, interval_seconds: float) -> AbstractAsyncContextManager[None]:
        """`run` in a task of its own while the block runs (stopped even while its queries connect, when
        one cancellation can be dropped)."""
        return running_while(self.run(interval_seconds))
