"""A pathway walked through the API is heard of by a real receiver: each change once, in order, signed.

The real API, worker (its outbox write) and sender, the dev server and the embedded PostgreSQL; the receiver
listens on a loopback port. Other tests' pathways may send events to this subscription too: only this
pathway's are looked at.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from standardwebhooks.webhooks import Webhook
from temporalio.client import Client

from tests.integration.polling import poll_view
from tests.integration.walk import RUN_WAIT_SECONDS, walk_to_relief_check
from tests.integration.webhook_receiver import Received, WebhookReceiver
from tests.integration.webhooks import forget_subscriptions, sending, subscribe


@pytest.fixture
async def receiver(pool: asyncpg.Pool) -> AsyncIterator[WebhookReceiver]:
    await forget_subscriptions(pool)
    receiving = WebhookReceiver()
    await receiving.start()
    yield receiving
    await receiving.stop()
    await forget_subscriptions(pool)


def _of(receiver: WebhookReceiver, pathway_id: str) -> list[Received]:
    return [r for r in receiver.delivered() if r.event["pathway_id"] == pathway_id]


async def _heard(receiver: WebhookReceiver, pathway_id: str, last_type: str, count: int) -> list[Received]:
    """Waits (bounded) until the receiver has `count` events of the pathway, `last_type` among them."""
    for _ in range(600):
        got = _of(receiver, pathway_id)
        if len(got) >= count and any(r.event["type"] == last_type for r in got):
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"heard {[r.event['type'] for r in _of(receiver, pathway_id)]}")


async def test_a_walked_pathway_is_heard_of_once_per_change_in_order_and_signed(
    api: httpx.AsyncClient,
    pool: asyncpg.Pool,
    temporal: Client,
    database: str,
    worker: None,
    receiver: WebhookReceiver,
) -> None:
    made = await subscribe(api, receiver.url)
    async with sending(pool, database):
        pathway_id = await walk_to_relief_check(api, f"REF-HOOKS-{uuid.uuid4().hex[:8]}")
        for pain, then_wait in ((1, RUN_WAIT_SECONDS), (0, 0.0), (7, 0.0)):
            report = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": pain})
            assert report.status_code == 200, report.text
            await asyncio.sleep(then_wait)  # the two reports of relief make a run
        await poll_view(api, pathway_id, "candidacy", lambda v: v["stage"] == "candidacy")
        declined = {"approved": False, "decided_by": "Dr. S", "reason": "prefers physiotherapy first"}
        answer = await api.post(f"/v1/pathways/{pathway_id}/candidacy-decision", json=declined)
        assert answer.status_code == 200, answer.text
        final = await poll_view(api, pathway_id, "closed", lambda v: v["status"] == "closed")
        await temporal.get_workflow_handle(pathway_id).result()  # its last events are written before it ends
        written = await pool.fetchval("select count(*) from webhook_events where pathway_id = $1", pathway_id)
        got = await _heard(receiver, pathway_id, "pathway.closed", written)

    events: list[dict[str, Any]] = [Webhook(made["secret"]).verify(r.body, r.headers) for r in got]
    assert [r.webhook_id for r in got] == [e["id"] for e in events]
    assert [e["sequence"] for e in events] == list(range(1, written + 1))  # each once, in order
    told = [(e["type"], e["data"].get("stage")) for e in events if not e["type"].startswith("appointment.")]
    assert told == [
        ("pathway.started", "mri"),
        ("pathway.stage_changed", {"from": "mri", "to": "exam"}),
        ("pathway.stage_changed", {"from": "exam", "to": "block"}),
        ("pathway.stage_changed", {"from": "block", "to": "relief_check"}),
        ("relief_check.evaluated", None),
        ("pathway.stage_changed", {"from": "relief_check", "to": "candidacy"}),
        ("pathway.closed", {"from": "candidacy", "to": "closed"}),
    ]
    evaluated = next(e for e in events if e["type"] == "relief_check.evaluated")
    assert evaluated["data"] == {"block_number": 1, "result": "positive"}
    closed = next(e for e in events if e["type"] == "pathway.closed")
    assert closed["data"]["outcome"] == "declined"
    booked = [e["data"]["appointment_id"] for e in events if e["type"] == "appointment.booked"]
    assert booked == [a["appointment_id"] for a in final["appointments"]]
    assert {e["patient_ref"] for e in events} == {final["patient_ref"]}
    assert "physiotherapy" not in str(events)  # free text stays out
