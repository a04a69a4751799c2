"""`POST /v1/sms/status`: the SMS gateway's delivery reports, moving a sent message's status forward.

Called by the gateway (the StatusCallback of every SMS), not by API clients: it is signed instead of keyed,
and left out of the OpenAPI document of the upstream contract. Every signed report answers 200, whether or not
its message is known here, so the caller learns nothing about which messages exist; a late report older than
the status recorded changes nothing (db/outbox.py). The log names the gateway's sid, the status and the
gateway's error code only.

A failure whose error code says the number cannot take SMS at all (`NUMBER_UNUSABLE`) is a bounce: the number
is refused for the patient, as when the gateway refuses it while sending (activities/notifications.py), and
the patient's pathway is signalled (`message_bounced`) to send the message again on the patient's other
channel, or, with none left, to raise NeedsAttention `patient_unreachable`. The gateway may send a report more
than once: each step can be taken again (the refusal keeps its first time, the pathway sends again once), so
a report is acted on whenever the message's recorded status is a failure, which a delivered message's never
becomes. Only when the workflow service is down does a bounce answer 503, so that a gateway that retries
callbacks sends it again.
"""

import asyncpg
import structlog
from fastapi import APIRouter, Response
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.dependencies import Pool, TemporalClient
from api.gateway_signature import MESSAGE_SID, SignedGatewayForm
from db import outbox
from db.outbox import DeliveryStatus
from db.patients import refuse_phone
from domain.notifications import BouncedMessage
from workflows.handles import pathway_workflow
from workflows.pathway import PatientPathwayWorkflow

log = structlog.get_logger()

router = APIRouter(tags=["sms gateway"])

_SHOWN = 64  # characters of a gateway-given value that a log line shows at most

NUMBER_UNUSABLE = frozenset({"30005", "30006"})
"""Twilio's delivery errors for a number that cannot take SMS, for good: 30005 unknown destination handset
(no such number, or no longer), 30006 landline or unreachable carrier. Not 30003 (unreachable destination
handset): mostly a phone switched off or out of signal, which passes; that message is only recorded
undelivered."""

_FAILURES = frozenset({DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED})


@router.post("/v1/sms/status", include_in_schema=False)
async def sms_status(form: SignedGatewayForm, pool: Pool, temporal: TemporalClient) -> Response:
    sid, reported = form.get("MessageSid", ""), form.get("MessageStatus", "")[:_SHOWN]
    error_code = form.get("ErrorCode", "")[:_SHOWN] or None
    if not MESSAGE_SID.fullmatch(sid):  # not a sid any gateway makes (PostgreSQL takes no NUL: was a 500)
        log.info("sms.status_ignored", reason="no_sid")
        return Response(status_code=200)
    try:
        status = DeliveryStatus(reported)
    except ValueError:  # accepted, scheduled, read, ...: not a step the outbox keeps
        log.info("sms.status_ignored", message_sid=sid, status=reported)
        return Response(status_code=200)
    changed = bool(sid) and await outbox.record_delivery_status(pool, sid, status)
    log.info("sms.status", message_sid=sid, status=status.value, changed=changed, error_code=error_code)
    if sid and status in _FAILURES and error_code in NUMBER_UNUSABLE:
        await _bounced(pool, temporal, sid)
    return Response(status_code=200)


async def _bounced(pool: asyncpg.Pool, temporal: Client, sid: str) -> None:
    """The number of the patient's SMS `sid` cannot take SMS: refused, and the pathway told."""
    async with pool.acquire() as conn, conn.transaction():
        bounced = await outbox.bounced_sms(conn, sid)
        if bounced is None:  # unknown here, a message to staff, or delivered after all
            return
        await refuse_phone(conn, bounced.patient_ref, bounced.address)
    handle = pathway_workflow(temporal, bounced.pathway_id)
    message = BouncedMessage(key=bounced.message_key, template=bounced.template, params=bounced.params)
    try:
        await handle.signal(PatientPathwayWorkflow.message_bounced, message)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise  # an outage answers 503 (api/outages.py)
        # The pathway has ended: nobody is left to send the message again; the number stays refused.
        log.warning("sms.bounced_after_pathway_ended", message_sid=sid)
        return
    log.info("sms.bounced", message_sid=sid)
