"""The webhook sender against real receivers on loopback ports and the real outbox in PostgreSQL.

The retry schedule is a few zero-second delays, so a failing receiver is retried at once; every wait is on a
condition (the receiver's requests, a delivery's status), bounded.
"""

import asyncio
import contextlib
import os
import signal
import socket
import ssl
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from ipaddress import IPv4Network
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import trustme
from standardwebhooks.webhooks import Webhook
from temporalio.client import Client

from api.routes.webhooks import new_secret
from db import webhook_deliveries as deliveries
from db.webhook_deliveries import Claimed
from delivery.task_stopping import cancel_until_done
from delivery.webhook_sender import Outcome, SenderSettings, WebhookSender, attempt
from tests.integration.processes import free_port, python_command, python_env, wait_until
from tests.integration.webhook_receiver import WebhookReceiver
from tests.integration.webhooks import (
    FAST,
    LOOPBACK,
    Hooks,
    deliveries_of,
    forget_subscriptions,
    new_pathway_id,
    own_clinic,
    record,
    sending,
    subscribe,
)

STOP_TIMEOUT = 30.0
"""For the sender process to stop after SIGTERM: well under a second on its own, over 10 s once in a loaded
whole-suite run."""


@pytest.fixture(autouse=True)
async def _clean_slate(pool: asyncpg.Pool) -> AsyncIterator[None]:
    await forget_subscriptions(pool)  # whatever an earlier test left is not for these receivers
    yield
    await forget_subscriptions(pool)


@pytest.fixture
async def hooks(pool: asyncpg.Pool, temporal: Client, worker: None) -> AsyncIterator[Hooks]:
    async with own_clinic(pool, temporal) as own:
        yield own


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    receiving = WebhookReceiver()
    await receiving.start()
    yield receiving
    await receiving.stop()


async def settled(
    pool: asyncpg.Pool, subscription_id: str, count: int, status: str = "delivered"
) -> list[Any]:
    """Waits until the subscription has `count` deliveries, all with `status`; returns them."""
    rows: list[Any] = []

    async def check() -> bool:
        nonlocal rows
        rows = await deliveries_of(pool, subscription_id)
        return len(rows) == count and all(r["status"] == status for r in rows)

    deadline = asyncio.get_running_loop().time() + 20
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not {count} x {status}: {[(r['status'], r['attempts']) for r in rows]}")
        await asyncio.sleep(0.05)
    return rows


def in_order_per_pathway(ids_seen: list[str], recorded: dict[str, list[str]]) -> Callable[[str], list[str]]:
    return lambda pathway_id: [i for i in ids_seen if i in set(recorded[pathway_id])]


async def test_a_delivery_is_signed_so_the_receiver_can_verify_it(
    hooks: Hooks, pool: asyncpg.Pool, database: str, receiver: WebhookReceiver
) -> None:
    made = await subscribe(hooks.api, receiver.url)
    pathway_id = new_pathway_id()
    async with sending(pool, database):
        [event_id] = await record(pool, pathway_id, site=hooks.site)
        [row] = await settled(pool, made["id"], 1)
    [got] = receiver.received
    assert got.headers["content-type"] == "application/json"
    assert got.webhook_id == event_id
    event = Webhook(made["secret"]).verify(got.body, got.headers)
    assert (event["id"], event["pathway_id"], event["type"]) == (
        event_id,
        pathway_id,
        "pathway.stage_changed",
    )
    assert b" " not in got.body  # compact JSON: the bytes that were signed
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 43 + "=").verify(got.body, got.headers)
    assert (row["attempts"], row["last_status_code"], row["delivered_at"] is not None) == (1, 204, True)


async def test_each_pathways_events_arrive_in_order_with_several_sent_at_once(
    hooks: Hooks, pool: asyncpg.Pool, database: str, receiver: WebhookReceiver
) -> None:
    made = await subscribe(hooks.api, receiver.url)
    receiver.answer_after = 0.05  # slow enough that events sent side by side would overlap
    recorded: dict[str, list[str]] = {new_pathway_id(): [], new_pathway_id(): []}
    for _ in range(3):  # interleaved: a few events of one pathway, then of the other, recorded at once
        for pathway_id in recorded:
            recorded[pathway_id] += await record(pool, pathway_id, 3, site=hooks.site)
    async with sending(pool, database):
        await settled(pool, made["id"], 18)
    seen = [r.webhook_id for r in receiver.received]
    assert sorted(seen) == sorted(recorded[p][i] for p in recorded for i in range(9))
    for pathway_id, ids in recorded.items():
        assert in_order_per_pathway(seen, recorded)(pathway_id) == ids
    assert receiver.overlapped == set()  # one event of a pathway at a time...
    assert receiver.most_in_hand == 2  # ...while the two pathways went side by side


async def test_a_receiver_that_fails_then_recovers_gets_each_event_once_and_in_order(
    hooks: Hooks, pool: asyncpg.Pool, database: str, receiver: WebhookReceiver
) -> None:
    made = await subscribe(hooks.api, receiver.url)
    receiver.faults = ["500", "503", "500"]
    pathway_id = new_pathway_id()
    ids = await record(pool, pathway_id, 4, site=hooks.site)
    async with sending(pool, database):
        rows = await settled(pool, made["id"], 4)
    assert [r.webhook_id for r in receiver.delivered()] == ids
    assert sum(r["attempts"] for r in rows) == 4 + 3
    assert [r.answered for r in receiver.received[:3]] == [500, 503, 500]


async def test_a_delivery_failed_for_good_is_listed_and_redelivered_with_the_same_id(
    hooks: Hooks, pool: asyncpg.Pool, database: str, receiver: WebhookReceiver
) -> None:
    made = await subscribe(hooks.api, receiver.url)
    receiver.always = "500"
    pathway_id = new_pathway_id()
    first, then = await record(pool, pathway_id, 2, site=hooks.site)
    async with sending(pool, database):
        await settled(pool, made["id"], 2, "failed")  # the first failing for good lets the next one go
        assert len(receiver.received) == 2 * (1 + len(FAST.retry_seconds))
        path = f"/v1/webhooks/{made['id']}/deliveries"
        failed = (await hooks.api.get(path, params={"status": "failed"})).json()["items"]
        assert [d["event_id"] for d in failed] == [then, first]
        assert failed[0]["attempts"] == 4 and failed[0]["last_error"] == "HTTP 500"
        assert failed[0]["last_status_code"] == 500 and failed[0]["next_attempt_at"] is None

        receiver.always = None
        by_event = {d["event_id"]: d["delivery_id"] for d in failed}
        again = await hooks.api.post(f"{path}/{by_event[first]}/redeliver")
        assert again.status_code == 202, again.text
        await wait_until("the redelivery", lambda: len(receiver.delivered()) == 1, timeout=20)
    [redelivered] = receiver.delivered()
    assert redelivered.webhook_id == first
    Webhook(made["secret"]).verify(redelivered.body, redelivered.headers)
    rows = await deliveries_of(pool, made["id"])
    assert [(r["event_id"], r["status"], r["attempts"]) for r in rows] == [
        (first, "delivered", 1),
        (then, "failed", 4),
    ]


async def test_a_deleted_subscription_gets_nothing_more(
    hooks: Hooks, pool: asyncpg.Pool, database: str, receiver: WebhookReceiver
) -> None:
    other = WebhookReceiver()
    await other.start()
    try:
        gone = await subscribe(hooks.api, receiver.url)
        kept = await subscribe(hooks.api, other.url)
        await record(pool, new_pathway_id(), site=hooks.site)  # pending for both when one is deleted
        assert (await hooks.api.delete(f"/v1/webhooks/{gone['id']}")).status_code == 204
        async with sending(pool, database):
            await record(pool, new_pathway_id(), site=hooks.site)
            await settled(pool, kept["id"], 2)  # both events reached the subscription that is left
    finally:
        await other.stop()
    assert receiver.received == []
    assert [r["status"] for r in await deliveries_of(pool, gone["id"])] == ["cancelled"]


async def test_a_sender_killed_mid_request_leaves_the_delivery_to_be_sent_again_with_the_same_id(
    hooks: Hooks, pool: asyncpg.Pool, database: str, receiver: WebhookReceiver
) -> None:
    made = await subscribe(hooks.api, receiver.url)
    receiver.faults = ["hold"]  # takes the first request and never answers it
    [event_id] = await record(pool, new_pathway_id(), site=hooks.site)
    env = python_env(
        DATABASE_URL=database,
        DVR_WEBHOOK_TIMEOUT_SECONDS="5",
        DVR_WEBHOOK_LEASE_SECONDS="6",
        DVR_WEBHOOK_POLL_SECONDS="0.2",
        DVR_WEBHOOK_ALLOWED_NETWORKS='["127.0.0.0/8"]',  # the receiver's loopback port
        DVR_LOG_FORMAT="json",
    )

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            python_command("delivery.webhook_sender"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    first = start()
    try:
        await wait_until("the held request", lambda: len(receiver.received) == 1, timeout=30)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    [row] = await deliveries_of(pool, made["id"])
    assert (row["status"], row["attempts"]) == ("pending", 1)  # held under the dead sender's lease

    second = start()
    try:
        await settled(pool, made["id"], 1)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            _, errors = second.communicate(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            # Never left running: it would claim the deliveries of every later test in the session.
            second.kill()
            second.wait()
            raise
    assert [r.webhook_id for r in receiver.received] == [event_id, event_id]
    assert [r.webhook_id for r in receiver.delivered()] == [event_id]
    [row] = await deliveries_of(pool, made["id"])
    assert (row["status"], row["attempts"]) == ("delivered", 2)
    assert second.returncode == 0, errors.decode()[-2000:]
    assert made["secret"] not in errors.decode() and "/hook" not in errors.decode()


def test_the_sender_refuses_a_lease_no_longer_than_an_attempt() -> None:
    from pydantic import ValidationError

    from config.settings import Settings

    with pytest.raises(ValidationError, match="LEASE"):
        Settings(webhook_timeout_seconds=10, webhook_lease_seconds=10)
    with pytest.raises(ValidationError):
        Settings(webhook_retry_seconds=[])
    assert Settings().webhook_retry_seconds == [5, 300, 1800, 7200, 18000, 36000, 36000]


class FlakyPool:
    """The real pool, whose first `failures` statements fail as a database that is down does."""

    def __init__(self, pool: asyncpg.Pool, failures: int) -> None:
        self._pool, self.failures = pool, failures

    def _down(self) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionRefusedError("the database is down")

    async def fetch(self, *args: Any, **kwargs: Any) -> Any:
        self._down()
        return await self._pool.fetch(*args, **kwargs)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._down()
        return await self._pool.execute(*args, **kwargs)


async def test_the_sender_carries_on_once_the_database_is_back(
    hooks: Hooks, pool: asyncpg.Pool, database: str, receiver: WebhookReceiver
) -> None:
    made = await subscribe(hooks.api, receiver.url)
    [event_id] = await record(pool, new_pathway_id(), site=hooks.site)
    flaky = FlakyPool(pool, failures=3)
    listen_tries = 0

    async def listen() -> asyncpg.Connection:
        nonlocal listen_tries
        listen_tries += 1
        if listen_tries == 1:
            raise ConnectionRefusedError("the database is down")
        return await asyncpg.connect(database)

    async with httpx.AsyncClient() as http:
        sender = WebhookSender(flaky, listen, http, FAST)  # type: ignore[arg-type]
        task = asyncio.create_task(sender.run())
        try:
            await settled(pool, made["id"], 1)
        finally:
            await cancel_until_done(task)
    assert flaky.failures == 0 and listen_tries >= 2
    assert [r.webhook_id for r in receiver.delivered()] == [event_id]


async def test_an_attempt_that_fails_says_why_in_a_few_words(receiver: WebhookReceiver) -> None:
    def claimed(url: str) -> Claimed:
        return Claimed(
            uuid.uuid4(), 1, uuid.uuid4(), url, new_secret(), "evt_x", "pathway.started", {"id": "evt_x"}
        )

    receiver.faults = ["302", "hold"]
    async with httpx.AsyncClient(trust_env=False) as http:
        assert await attempt(http, claimed(receiver.url), 2.0, LOOPBACK) == Outcome(302, "HTTP 302")
        assert await attempt(http, claimed(receiver.url), 0.2, LOOPBACK) == Outcome(None, "timeout")
        closed = f"http://127.0.0.1:{free_port()}/hook"
        assert await attempt(http, claimed(closed), 2.0, LOOPBACK) == Outcome(None, "connection failed")
        # Loopback not allowed (outside the demo profile): nothing is sent.
        assert await attempt(http, claimed(receiver.url), 2.0) == Outcome(None, "address not allowed")
    assert len(receiver.received) == 2


async def test_an_attempt_connects_to_the_address_it_checked_not_to_a_second_lookup(
    receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the receiver's name resolves to an allowed address for the check, then to another
    (here 127.0.0.2, standing for a metadata service or an internal one) for the connection. The request goes
    to the address checked, with the name kept as its Host; nothing reaches the other."""
    port = urlsplit(receiver.url).port
    assert port is not None
    # The inside service listens on the receiver's port, where a second lookup would send the request.
    hits: list[bytes] = []
    inside = await asyncio.start_server(_answer_204_recording(hits), "127.0.0.2", port)
    answers = iter(["127.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("receiver.test", b"receiver.test"):  # the connection asks in bytes
            return real(host, *args, **kwargs)
        return real(next(answers, "127.0.0.2"), *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    claimed = _claimed(f"http://receiver.test:{port}/hook")
    async with httpx.AsyncClient(trust_env=False) as http, inside:
        outcome = await attempt(http, claimed, 5.0, (IPv4Network("127.0.0.1/32"),))
    assert outcome == Outcome(204, None)
    assert hits == []
    [delivered] = receiver.delivered()
    assert delivered.webhook_id == "evt_x" and delivered.headers["host"] == f"receiver.test:{port}"


@pytest.mark.parametrize(("certified", "expected"), [("receiver.test", 204), ("other.test", None)])
async def test_a_pinned_https_attempt_checks_the_certificate_against_the_name(
    monkeypatch: pytest.MonkeyPatch, certified: str, expected: int | None
) -> None:
    """Connected to the address checked, over https the certificate must still be the name's."""
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(certified).configure_cert(server_tls)
    hits: list[bytes] = []
    server = await asyncio.start_server(_answer_204_recording(hits), "127.0.0.1", 0, ssl=server_tls)
    port = server.sockets[0].getsockname()[1]
    real = socket.getaddrinfo

    def resolving(host: Any, *args: Any, **kwargs: Any) -> Any:
        named = host in ("receiver.test", b"receiver.test")
        return real("127.0.0.1" if named else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolving)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    async with httpx.AsyncClient(trust_env=False, verify=client_tls) as http, server:
        outcome = await attempt(http, _claimed(f"https://receiver.test:{port}/hook"), 5.0, LOOPBACK)
    assert outcome.status_code == expected
    assert len(hits) == (1 if expected else 0)
    if hits:
        assert f"host: receiver.test:{port}".encode() in hits[0].lower()


def _answer_204_recording(
    hits: list[bytes],
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def take(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            hits.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
        writer.close()

    return take


async def _raw_receiver(
    answer: Callable[[asyncio.StreamWriter], Awaitable[None]],
) -> tuple[asyncio.Server, str]:
    """A receiver on a loopback port that reads the request's head and then answers as `answer` writes."""

    async def take(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r\n\r\n")
            await answer(writer)
        writer.close()

    server = await asyncio.start_server(take, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"


def _claimed(url: str) -> Claimed:
    return Claimed(
        uuid.uuid4(), 1, uuid.uuid4(), url, new_secret(), "evt_x", "pathway.started", {"id": "evt_x"}
    )


async def test_an_attempt_ends_at_its_timeout_however_slowly_the_receiver_answers() -> None:
    """A receiver that sends its answer a byte at a time is cut off at the timeout, not a read's timeout."""

    async def drip(writer: asyncio.StreamWriter) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.1)

    server, url = await _raw_receiver(drip)
    async with server, httpx.AsyncClient(trust_env=False) as http:
        started = asyncio.get_running_loop().time()
        assert await attempt(http, _claimed(url), 0.5, LOOPBACK) == Outcome(None, "timeout")
        assert asyncio.get_running_loop().time() - started < 1.5


async def test_an_answers_body_is_never_read() -> None:
    """A 2xx with a huge body is delivered on its status; the body is not taken into memory."""
    written = 0

    async def huge(writer: asyncio.StreamWriter) -> None:
        nonlocal written
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 419430400\r\n\r\n")
        chunk = b"x" * 65536
        for _ in range(6400):
            writer.write(chunk)
            await writer.drain()
            written += len(chunk)

    server, url = await _raw_receiver(huge)
    async with server, httpx.AsyncClient(trust_env=False) as http:
        assert await attempt(http, _claimed(url), 5.0, LOOPBACK) == Outcome(200, None)
    assert written < 50 * 1024 * 1024  # the sender hung up long before the 400 MiB were sent


async def test_a_hanging_receiver_holds_no_more_than_its_share_of_the_sender(
    hooks: Hooks, pool: asyncpg.Pool, database: str, receiver: WebhookReceiver
) -> None:
    """Deliveries to a receiver that never answers take at most `per_receiver` of the sender's slots: another
    receiver's event goes out at once."""
    hanging = WebhookReceiver(always="hold")
    await hanging.start()
    try:
        stuck = await subscribe(hooks.api, hanging.url)
        healthy = await subscribe(hooks.api, receiver.url)
        slow = SenderSettings(**(vars(FAST) | {"timeout_seconds": 20.0, "lease_seconds": 30.0}))
        async with sending(pool, database, slow):
            for _ in range(6):
                await record(pool, new_pathway_id(), site=hooks.site)
            await wait_until("the hanging receiver holds its share", lambda: len(hanging.received) >= 2)
            await settled(pool, healthy["id"], 6)
            assert hanging.most_in_hand == FAST.per_receiver == 2
    finally:
        await hanging.stop()
    assert len([r for r in await deliveries_of(pool, stuck["id"]) if r["status"] == "pending"]) == 6


async def test_a_late_answer_does_not_settle_a_redelivery(
    hooks: Hooks, pool: asyncpg.Pool, receiver: WebhookReceiver
) -> None:
    """An attempt that outlasted its lease answers 2xx after the delivery was sent again and redelivered:
    the redelivery is still to be sent."""
    made = await subscribe(hooks.api, receiver.url)
    await record(pool, new_pathway_id(), site=hooks.site)
    [first] = await deliveries.claim_due(pool, limit=1, lease_seconds=0.0)  # its lease over at once
    [second] = await deliveries.claim_due(pool, limit=1, lease_seconds=30.0)
    assert (first.delivery_id, second.attempts) == (second.delivery_id, 2)
    assert await deliveries.mark_delivered(pool, second.delivery_id, second.attempts, 204)
    await deliveries.redeliver(pool, uuid.UUID(made["id"]), second.delivery_id)
    assert not await deliveries.mark_delivered(pool, first.delivery_id, first.attempts, 204)
    [row] = await deliveries_of(pool, made["id"])
    assert (row["status"], row["attempts"]) == ("pending", 0)
