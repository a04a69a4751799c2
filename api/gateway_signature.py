"""Requests from the SMS gateway: a form signed with the gateway's auth token (`X-Twilio-Signature`).

The signature is the gateway's HMAC over the URL it called (`DVR_PUBLIC_URL` + path, as the gateway was
told it) and the form fields, checked with twilio's own `RequestValidator`. A wrong or missing signature, or
an API with no gateway configured, answers 403 before anything is read or changed.
"""

import re
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from twilio.request_validator import RequestValidator

from api.dependencies import AppSettings
from api.problems import Problem

# A gateway's message sid: Twilio's is SM and 32 hex digits. Nothing else (far longer, a NUL PostgreSQL would
# refuse, spaces) is one: a request naming such a sid is not acted on.
MESSAGE_SID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


async def signed_gateway_form(request: Request, settings: AppSettings) -> dict[str, str]:
    """The request's form fields, once its signature is the gateway's; 403 otherwise."""
    token, public_url = settings.twilio_auth_token, settings.public_url
    signature = request.headers.get("X-Twilio-Signature")
    if token is None or public_url is None or not signature:
        raise _not_signed()
    try:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        raise _not_signed() from None
    url = public_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not RequestValidator(token.get_secret_value()).validate(url, form, signature):
        raise _not_signed()
    return form


def _not_signed() -> Problem:
    return Problem(
        403, "not-signed-by-the-gateway", "The request does not carry the SMS gateway's signature."
    )


SignedGatewayForm = Annotated[dict[str, str], Depends(signed_gateway_form)]
