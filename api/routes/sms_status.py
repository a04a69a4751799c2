"""`POST /v1/sms/status`: the SMS gateway's delivery reports, moving a sent message's status forward.

Called by the gateway (the StatusCallback of every SMS), not by API clients: it is signed instead of keyed,
and left out of the OpenAPI document of the upstream contract. Every signed report answers 200, whether or not
its message is known here, so the caller learns nothing about which messages exist; a late report older than
the status recorded changes nothing (db/outbox.py). The log names the gateway's sid and the status only.
"""

import structlog
from fastapi import APIRouter, Response

from api.dependencies import Pool
from api.gateway_signature import SignedGatewayForm
from db import outbox
from db.outbox import DeliveryStatus

log = structlog.get_logger()

router = APIRouter(tags=["sms gateway"])

_SHOWN = 64  # characters of a gateway-given value that a log line shows at most


@router.post("/v1/sms/status", include_in_schema=False)
async def sms_status(form: SignedGatewayForm, pool: Pool) -> Response:
    sid, reported = form.get("MessageSid", "")[:_SHOWN], form.get("MessageStatus", "")[:_SHOWN]
    try:
        status = DeliveryStatus(reported)
    except ValueError:  # accepted, scheduled, read, ...: not a step the outbox keeps
        log.info("sms.status_ignored", message_sid=sid, status=reported)
        return Response(status_code=200)
    changed = bool(sid) and await outbox.record_delivery_status(pool, sid, status)
    log.info("sms.status", message_sid=sid, status=status.value, changed=changed)
    return Response(status_code=200)
