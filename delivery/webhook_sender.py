"""The webhook sender: delivers the outbox's pending deliveries to their receivers (README "Webhooks").

It runs inside the worker process (workers/worker.py) and, alone, as `python -m delivery.webhook_sender`
(`DATABASE_URL` or the local stack's database, as the worker finds it). Several may run at once (workers
scaled): each claims due deliveries with `FOR UPDATE SKIP LOCKED` (db/webhook_deliveries.py), and a delivery
waits for the earlier ones of its pathway to the same receiver, so each receiver hears of a pathway's events
in order.

An attempt POSTs the event's body as compact JSON, signed the Standard Webhooks way (`webhook-id`: the event's
id, the same on every attempt and redelivery; `webhook-timestamp`; `webhook-signature`). A 2xx answer within
the timeout delivers it; anything else (another status, a redirect, a timeout, a refused connection) is tried
again after the next delay of `DVR_WEBHOOK_RETRY_SECONDS`, and once those are used up the delivery is failed.
A sender that dies mid-attempt holds its delivery until the lease ends; then any sender sends it again, same
id: delivery is at least once, and receivers drop a `webhook-id` they have seen.

It wakes at once on a new delivery (`LISTEN webhook_deliveries`, on a connection of its own), and looks every
`DVR_WEBHOOK_POLL_SECONDS` as well. A database that does not answer is logged and tried again, backing off;
the sender carries on when it is back. Log lines name the delivery, event id and type, the attempt and the
status, never the receiver's URL, the secret or the body.
"""

import asyncio
import contextlib
import json
import signal
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import httpx
import structlog
from standardwebhooks.webhooks import Webhook

from config.database import database_url_or_exit
from config.logging import configure_logging
from config.settings import Settings
from db import webhook_deliveries as deliveries
from db.outages import DATABASE_OUTAGES
from db.pool import create_pool
from db.webhook_deliveries import Claimed
from db.webhook_outbox import WAKE_CHANNEL
from delivery.receiver_addresses import pinned_receiver
from delivery.task_stopping import running_while
from domain.webhook_receivers import Network

log = structlog.get_logger()

_LONGEST_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class SenderSettings:
    retry_seconds: tuple[float, ...]
    timeout_seconds: float
    lease_seconds: float
    poll_seconds: float
    concurrency: int
    per_receiver: int = 2
    allowed_networks: tuple[Network, ...] = ()

    @staticmethod
    def of(settings: Settings) -> "SenderSettings":
        return SenderSettings(
            retry_seconds=tuple(float(s) for s in settings.webhook_retry_seconds),
            timeout_seconds=settings.webhook_timeout_seconds,
            lease_seconds=settings.webhook_lease_seconds,
            poll_seconds=settings.webhook_poll_seconds,
            concurrency=settings.webhook_concurrency,
            per_receiver=settings.webhook_per_receiver,
            allowed_networks=settings.webhook_networks_allowed,
        )


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: the receiver's status (None: no answer), and why it failed (None: 2xx)."""

    status_code: int | None
    error: str | None


def signed_request(claimed: Claimed, at: datetime) -> tuple[bytes, dict[str, str]]:
    """The body (compact JSON of the stored event) and the headers that sign exactly those bytes."""
    body = json.dumps(claimed.payload, separators=(",", ":"), ensure_ascii=False)
    signature = Webhook(claimed.secret).sign(claimed.event_id, at, body)
    headers = {
        "content-type": "application/json",
        "webhook-id": claimed.event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
    return body.encode(), headers


async def attempt(
    http: httpx.AsyncClient, claimed: Claimed, timeout: float, allowed: Sequence[Network] = ()
) -> Outcome:
    """POSTs the delivery once, within `timeout` from start to answer, to a receiver whose every address is
    public or on an `allowed` network. Redirects are not followed (a 3xx is a failure), and the answer's body
    is never read: only its status counts."""
    body, headers = signed_request(claimed, datetime.now(UTC))
    try:
        async with asyncio.timeout(timeout):
            receiver = await pinned_receiver(claimed.url, allowed)
            if isinstance(receiver, str):
                return Outcome(None, receiver)
            # Closed after the answer: a pooled connection is keyed by address, and another name on the same
            # address must not take one made (and, over https, verified) for this one.
            sent = {**headers, "host": receiver.host, "connection": "close"}
            async with http.stream(
                "POST",
                receiver.url,
                content=body,
                headers=sent,
                timeout=timeout,
                follow_redirects=False,
                extensions=receiver.extensions,
            ) as response:
                status = response.status_code
    except (TimeoutError, httpx.TimeoutException):
        return Outcome(None, "timeout")
    except httpx.ConnectError:  # refused, unreachable, or no such host
        return Outcome(None, "connection failed")
    except Exception as err:  # reset, protocol error, a URL httpx will not send to: an attempt all the same
        return Outcome(None, f"request failed ({type(err).__name__})")
    if 200 <= status < 300:
        return Outcome(status, None)
    return Outcome(status, f"HTTP {status}")


class WebhookSender:
    """Claims due deliveries and sends them, at most `concurrency` at once, until cancelled."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        listen: Callable[[], Awaitable[asyncpg.Connection]],
        http: httpx.AsyncClient,
        settings: SenderSettings,
    ) -> None:
        """`listen` opens the connection the sender LISTENs on (kept out of the pool)."""
        self._pool, self._listen, self._http, self._settings = pool, listen, http, settings
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._per_receiver: Counter[uuid.UUID] = Counter()

    async def run(self) -> None:
        log.info(
            "webhook.sender_started",
            concurrency=self._settings.concurrency,
            retry_seconds=list(self._settings.retry_seconds),
        )
        listening = asyncio.create_task(self._keep_listening())
        try:
            await self._send_until_cancelled()
        finally:
            listening.cancel()
            for task in self._in_flight:
                task.cancel()
            await asyncio.gather(listening, *self._in_flight, return_exceptions=True)
            log.info("webhook.sender_stopped")

    async def _send_until_cancelled(self) -> None:
        backoff = 0.0
        last_orphan_check = 0.0
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            free = self._settings.concurrency - len(self._in_flight)
            claimed: list[Claimed] = []
            try:
                if loop.time() - last_orphan_check >= self._settings.poll_seconds:
                    await deliveries.cancel_orphans(self._pool)
                    last_orphan_check = loop.time()
                claimed = await self._claim(free)
                backoff = 0.0
            except Exception as err:
                backoff = min(max(backoff * 2, 0.5), _LONGEST_BACKOFF_SECONDS)
                if isinstance(err, DATABASE_OUTAGES):
                    log.warning("webhook.database_unreachable", error=type(err).__name__, retry_in=backoff)
                else:  # not expected: logged by its type (a statement's error may quote data), then again
                    log.error("webhook.claim_failed", error=type(err).__name__, retry_in=backoff)
                await asyncio.sleep(backoff)
                continue
            if claimed and len(claimed) == free:
                continue  # there may be more due: claim again as slots free up
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.poll_seconds)

    async def _claim(self, free: int) -> list[Claimed]:
        """Claims and starts up to `free` due deliveries, one at a time, so that no receiver gets more than
        `per_receiver` of this sender's attempts at once (a receiver that hangs holds that many slots)."""
        claimed: list[Claimed] = []
        while len(claimed) < free:
            busy = [s for s, n in self._per_receiver.items() if n >= self._settings.per_receiver]
            found = await deliveries.claim_due(
                self._pool, limit=1, lease_seconds=self._settings.lease_seconds, skip=busy
            )
            if not found:
                break
            [one] = found
            self._per_receiver[one.subscription_id] += 1
            task = asyncio.create_task(self._deliver(one))
            self._in_flight.add(task)
            task.add_done_callback(self._settled)
            claimed.append(one)
        return claimed

    def _settled(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._wake.set()  # a slot is free, and the pathway's next event may be due now

    async def _deliver(self, claimed: Claimed) -> None:
        try:
            await self._attempt_and_record(claimed)
        finally:
            self._per_receiver[claimed.subscription_id] -= 1
            if self._per_receiver[claimed.subscription_id] <= 0:
                del self._per_receiver[claimed.subscription_id]

    async def _attempt_and_record(self, claimed: Claimed) -> None:
        fields = {
            "delivery_id": str(claimed.delivery_id),
            "event_id": claimed.event_id,
            "event_type": claimed.event_type,
            "subscription_id": str(claimed.subscription_id),
            "attempt": claimed.attempts,
        }
        outcome = await attempt(
            self._http, claimed, self._settings.timeout_seconds, self._settings.allowed_networks
        )
        try:
            await self._record(claimed, outcome, fields)
        except Exception as err:
            # Left pending under its lease: it is sent again, same id, when the lease ends.
            log.warning("webhook.outcome_not_recorded", **fields, error=type(err).__name__)

    async def _record(self, claimed: Claimed, outcome: Outcome, fields: dict[str, object]) -> None:
        if outcome.error is None:
            assert outcome.status_code is not None
            await deliveries.mark_delivered(
                self._pool, claimed.delivery_id, claimed.attempts, outcome.status_code
            )
            log.info("webhook.delivered", **fields, status_code=outcome.status_code)
            return
        schedule = self._settings.retry_seconds
        retry_after = schedule[claimed.attempts - 1] if claimed.attempts <= len(schedule) else None
        recorded = await deliveries.mark_attempt_failed(
            self._pool,
            claimed.delivery_id,
            claimed.attempts,
            status_code=outcome.status_code,
            error=outcome.error,
            retry_after_seconds=retry_after,
        )
        event = "webhook.retrying" if retry_after is not None else "webhook.failed"
        log.warning(
            event,
            **fields,
            status_code=outcome.status_code,
            error=outcome.error,
            retry_in=retry_after,
            recorded=recorded,
        )
        if retry_after is not None and recorded and retry_after < self._settings.poll_seconds:
            # Due before the next poll (a hair after the database's clock says): look then.
            asyncio.get_running_loop().call_later(retry_after + 0.05, self._wake.set)

    async def _keep_listening(self) -> None:
        """LISTENs for new deliveries on a connection of its own, opened again whenever it is lost."""
        backoff = 0.0
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await self._listen()
                lost = asyncio.Event()
                conn.add_termination_listener(_setter(lost))
                await conn.add_listener(WAKE_CHANNEL, lambda *_args: self._wake.set())
                backoff = 0.0
                self._wake.set()  # whatever was recorded while it was not listening
                await lost.wait()
                log.warning("webhook.listen_connection_lost")
            except Exception as err:  # the poll carries on meanwhile
                backoff = min(max(backoff * 2, 0.5), _LONGEST_BACKOFF_SECONDS)
                log.warning("webhook.listen_failed", error=type(err).__name__, retry_in=backoff)
                await asyncio.sleep(backoff)
            finally:
                if conn is not None and not conn.is_closed():
                    conn.terminate()


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _conn: event.set()


@contextlib.asynccontextmanager
async def running_sender(pool: asyncpg.Pool, dsn: str, settings: Settings) -> AsyncIterator[None]:
    """Runs a sender while the block runs; it stops (attempts under way cancelled) when the block ends."""
    # No proxy or credentials from the environment reach a receiver the API's users chose.
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as http:
        sender = WebhookSender(pool, lambda: asyncpg.connect(dsn), http, SenderSettings.of(settings))
        async with running_while(sender.run()):
            yield


async def main() -> None:
    """The sender alone, until SIGINT or SIGTERM."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    url = database_url_or_exit(settings, "the webhook sender")
    pool = await create_pool(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running_sender(pool, url, settings):
            await stop.wait()
    finally:
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
