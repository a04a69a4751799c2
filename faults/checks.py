"""What a scenario is judged on, measured after the pathways were driven on: pathways lost, messages sent
twice, double bookings, server errors the clients saw (5xx other than 503), and the time to recover."""

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.providers.smtp import message_id
from faults.api import ApiClient
from faults.pathways import Pathway
from faults.receivers import SENDER, plain
from faults.rig import Rig

LATE_SECONDS = 120.0
"""A pathway that waited longer than this for any state it reached is reported late (not lost)."""
SETTLE_SECONDS = 330.0
"""How long the cohort's messages are given to settle before they are counted: past the activities' longest
retry interval (5 minutes), so that a send waiting for its retry is counted once it has been tried."""


@dataclass
class Outcome:
    scenario: str
    pathways: int
    lost: int
    sent_twice: int
    double_bookings: int
    server_errors: int
    recovery_seconds: float
    late: int = 0
    """Pathways that got where they should, but waited over LATE_SECONDS for a state on the way."""
    protocol_copies: int = 0
    """E-mails the SMTP server kept again under the same Message-ID after it reset before its answer."""
    undelivered: int = 0
    """Messages given up on (outbox `failed`), e.g. an e-mail refused for good with a 5xx."""
    retried: int = 0
    """Answers 503 and failed connections the clients retried."""
    recorded_unsent: int = 0
    """Messages the outbox records as sent under the provider id of another: one message reached the patient
    where the outbox says two (a lookup took another message that reads the same for this one's)."""
    unsettled: int = 0
    """Messages still being tried when they were counted (SETTLE_SECONDS ran out): a copy a later try sends
    is never seen, so the duplicates are not known."""
    fault_met: bool = True
    """The fault took effect (a new worker started, connections cut, every scheduled failure met): without
    it the zeros say nothing."""
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        must_be_0 = (
            self.lost,
            self.sent_twice,
            self.double_bookings,
            self.server_errors,
            self.recorded_unsent,
            self.unsettled,
        )
        return self.fault_met and not any(must_be_0)


async def measure(
    rig: Rig, api: ApiClient, scenario: str, pathways: list[Pathway], stage: str, recovery_seconds: float
) -> Outcome:
    ids = [p.pathway_id for p in pathways if p.pathway_id]
    views = {p.pathway_id: await api.view(p.pathway_id) for p in pathways if p.pathway_id}
    lost = [p for p in pathways if not p.pathway_id or (views[p.pathway_id] or {}).get("stage") != stage]
    connection = await rig.connect()
    try:
        temporal = await Client.connect(rig.temporal_address)
        unsettled = await _settled(connection, temporal, ids)
        rows = await connection.fetch(
            "select message_key, pathway_id, template, channel, address, body, status, provider_message_id,"
            " unsettled_since from outbox"
            " where pathway_id = any($1::text[])",
            ids,
        )
        booked = await connection.fetch(
            "select pathway_id, kind, count(*) as n from appointments where pathway_id = any($1::text[])"
            " and status <> 'cancelled' group by pathway_id, kind having count(*) > 1",
            ids,
        )
    finally:
        await connection.close()
    bodies: dict[str, Counter[str]] = {}
    for row in rows:
        if row["channel"] == "sms" and row["body"] is not None:
            bodies.setdefault(row["address"], Counter())[plain(row["body"])] += 1
    ids_used = Counter(r["provider_message_id"] for r in rows if r["provider_message_id"] is not None)
    shared = {sid: n for sid, n in ids_used.items() if n > 1}  # one provider id, several messages
    mailbox = rig.smtp.mailbox
    phones = {p.phone for p in pathways}
    # Left in doubt: an attempt that may have reached the provider, never settled because its workflow
    # ended first (a relief check that finished while its prompt was being tried again). Each may own one
    # copy of a text of its own template (faults/receivers.py).
    by_sms = {p.pathway_id: p.phone for p in pathways if not p.email}
    doubtful = [
        r for r in rows if r["status"] in ("pending", "sending", "abandoned") and r["unsettled_since"]
    ]
    in_doubt = Counter(
        (by_sms[r["pathway_id"]], r["template"]) for r in doubtful if r["pathway_id"] in by_sms
    )
    template_of_text = {(r["address"], plain(r["body"])): r["template"] for r in rows if r["body"]}
    sms_twice = rig.gateway.duplicates(phones, bodies, in_doubt, template_of_text)
    # Every e-mail of the cohort's, the care team's as the patients': by Message-ID (one per outbox message).
    template_of_id = {message_id(r["message_key"], SENDER): r["template"] for r in rows}
    email_twice = mailbox.duplicates(set(template_of_id))
    outcome = Outcome(
        scenario=scenario,
        pathways=len(pathways),
        lost=len(lost),
        sent_twice=sum(sms_twice.values()) + sum(email_twice.values()),
        double_bookings=sum(r["n"] - 1 for r in booked) + sum(map(_twice_booked, views.values())),
        server_errors=len(api.server_errors),
        recovery_seconds=recovery_seconds,
        late=sum(p.longest_wait > LATE_SECONDS for p in pathways if p not in lost),
        protocol_copies=mailbox.protocol_copies(set(template_of_id)),
        undelivered=sum(r["status"] == "failed" for r in rows),
        retried=api.unavailable,
        recorded_unsent=sum(n - 1 for n in shared.values()),
        unsettled=unsettled,
    )
    for p in lost:
        stage_now = (views.get(p.pathway_id) or {}).get("stage")
        outcome.notes.append(f"lost: pathway {p.number} at {stage_now}; {p.stuck or 'its driver finished'}")
    outcome.notes += [
        f"late: pathway {p.number} waited {p.longest_wait:.0f} s for a state"
        for p in pathways
        if p not in lost and p.longest_wait > LATE_SECONDS
    ]
    outcome.notes += [f"server error: {e} (x{n})" for e, n in Counter(api.server_errors).items()]
    outcome.notes += [
        f"sent twice: SMS {template_of_text.get(text, 'not in the outbox')} (x{n + 1})"
        for text, n in sms_twice.items()
    ]
    outcome.notes += [
        f"left in doubt: {r['template']} ({r['status']}; its workflow ended before it was settled)"
        for r in doubtful
    ]
    if unsettled:
        outcome.notes.append(
            f"not settled: {unsettled} messages still being tried after {SETTLE_SECONDS:g} s, when counted"
        )
    template_of_sid = {r["provider_message_id"]: r["template"] for r in rows}
    outcome.notes += [
        f"recorded as sent under another message's provider id: {template_of_sid[sid]} (x{n})"
        for sid, n in shared.items()
    ]
    outcome.notes += [
        f"sent twice: e-mail {template_of_id.get(mid, 'not in the outbox')} (x{n + 1})"
        for mid, n in email_twice.items()
    ]
    return outcome


def _twice_booked(view: dict[str, Any] | None) -> int:
    """Appointments of a kind the pathway holds beyond one (none cancelled), from its view."""
    if view is None:
        return 0
    kinds = Counter(a["kind"] for a in view["appointments"] if a["status"] != "cancelled")
    return sum(n - 1 for n in kinds.values() if n > 1)


async def _settled(connection: Any, temporal: Client, ids: list[str]) -> int:
    """Waits (bounded) until none of these pathways' messages is still pending or being sent, or until no
    activity of theirs is left to send one (a message whose workflow ended before it settled stays pending
    until the sweep abandons it); returns how many are still being tried when it gives up."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        waiting = await connection.fetchval(
            "select count(*) from outbox where pathway_id = any($1::text[])"
            " and status in ('pending', 'sending')",
            ids,
        )
        if waiting == 0 or not await _activities_pending(temporal, ids):
            return 0
        if time.monotonic() > deadline:
            return int(waiting)
        await asyncio.sleep(0.5)


async def _activities_pending(temporal: Client, ids: list[str]) -> bool:
    """Whether any of these pathways, or a child of theirs (and theirs), has an activity scheduled or
    running, or a child that is starting."""
    pending = list(ids)
    while pending:
        try:
            described = await temporal.workflow_service.describe_workflow_execution(
                DescribeWorkflowExecutionRequest(
                    namespace=temporal.namespace, execution=WorkflowExecution(workflow_id=pending.pop())
                ),
                retry=True,
                timeout=timedelta(seconds=10),
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return True  # a child initiated and not started yet: it may send
            raise
        if described.pending_activities:
            return True
        pending += [child.workflow_id for child in described.pending_children]
    return False
