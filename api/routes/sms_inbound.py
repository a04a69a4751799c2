"""`POST /v1/sms/inbound`: a patient's text message, delivered by the SMS gateway (Twilio-compatible fields
`From`, `To`, `Body`, `MessageSid`).

Signed instead of keyed (api/gateway_signature.py: 403 and nothing changes otherwise), and left out of the
OpenAPI document of the upstream contract, like the status callbacks. The answer is TwiML: the reply to the
patient, if any, goes back in the response for the gateway to send, so the API never calls out. What is done
with the text is api/inbound_sms.py's; the log names the gateway's sid and an outcome code only.

A text whose step Temporal does not confirm in time answers 503 with Retry-After, never 200: a gateway sends
a webhook again only after a failure (Twilio: as its connection overrides say, README "Replies by text").
"""

from datetime import UTC, datetime
from xml.sax.saxutils import escape

import structlog
from fastapi import APIRouter, Response

from api.dependencies import AppSettings, Pool, TemporalClient
from api.gateway_signature import MESSAGE_SID, SignedGatewayForm
from api.inbound_sms import InboundText, NotConfirmed, answer_text
from api.outages import temporal_unavailable

log = structlog.get_logger()

router = APIRouter(tags=["sms gateway"])


PATH = "/v1/sms/inbound"

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@router.post(PATH, include_in_schema=False)
async def sms_inbound(
    form: SignedGatewayForm, pool: Pool, temporal: TemporalClient, settings: AppSettings
) -> Response:
    arrived_at = datetime.now(UTC)  # a diary answer counts at its arrival, not at when it is handled
    sid = form.get("MessageSid", "")
    if not MESSAGE_SID.fullmatch(sid):
        log.info("sms.inbound", outcome="no_sid")
        return twiml(None)
    text = InboundText(sid, form.get("From", ""), form.get("Body", ""), arrived_at)
    try:
        reply = await answer_text(text, pool=pool, temporal=temporal, wait=settings.sms_inbound_wait_seconds)
    except NotConfirmed:
        return temporal_unavailable(PATH)
    return twiml(reply)


def twiml(reply: str | None) -> Response:
    """The gateway's instructions: send `reply` back to the sender, or nothing."""
    if reply is None:
        return Response(EMPTY_TWIML, media_type="application/xml")
    body = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(reply)}</Message></Response>'
    return Response(body, media_type="application/xml")
