"""The demo outbox, `/demo/outbox` (demo profile only; 404 otherwise): each demo patient's messages with their
links, so that a person can play the patient.

It asks once for the bootstrap API key, in a form (POST: never a key in an address), and answers with a
session cookie (api/demo_session.py) that is HttpOnly (no script reads it) and SameSite=Strict (no other
site's page sends it), scoped to /demo. Wrong keys count towards the API's throttle like any wrong key.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Cookie, Request
from fastapi.responses import RedirectResponse, Response

from api import demo_session
from api.auth_throttle import AuthThrottle
from api.dependencies import AppSettings, Pool
from api.pages.render import PAGE_HEADERS, page
from db import audit
from db.api_clients import client_for_key
from db.bootstrap import BOOTSTRAP_CLIENT
from db.demo_outbox import SentMessage, sent_to_patients
from db.pool import Queryable
from db.signing_secrets import signing_secret
from domain.link_tokens import TOKEN_CHARS

router = APIRouter(include_in_schema=False)  # a page for people, and only in the demo profile

TITLE = "Demo outbox"
# A patient's link, wherever the public URL points: made an anchor on the page, the rest of a text is text.
_LINK = re.compile(rf"https?://\S+?/p/[A-Za-z0-9_-]{{{TOKEN_CHARS}}}")

SessionCookie = Annotated[str | None, Cookie(alias=demo_session.COOKIE)]


@dataclass
class _Pathway:
    pathway_id: str
    patient_name: str
    messages: list["_Shown"] = field(default_factory=list)


@dataclass(frozen=True)
class _Shown:
    template: str
    channel: str
    sent_at: datetime
    parts: list[tuple[str, str | None]]
    """The text in pieces: (text, None), or (a link, its address)."""


@router.get("/demo/outbox")
async def show_outbox(
    settings: AppSettings, pool: Pool, request: Request, session: SessionCookie = None
) -> Response:
    if settings.profile != "demo":
        return _not_here()
    if not demo_session.is_valid(await _secret(request, pool), session, datetime.now(UTC)):
        return page("outbox_login.html", lang="en", title=TITLE, error=None)
    messages = await sent_to_patients(pool)
    await audit.record(
        pool, actor=BOOTSTRAP_CLIENT, action="demo_outbox.read", detail={"messages": len(messages)}
    )
    return page("outbox.html", lang="en", title=TITLE, pathways=_by_pathway(messages))


@router.post("/demo/outbox")
async def sign_in(settings: AppSettings, pool: Pool, request: Request) -> Response:
    if settings.profile != "demo":
        return _not_here()
    throttle: AuthThrottle = request.app.state.auth_throttle
    address = request.client.host if request.client is not None else "unknown"
    throttle.check(address)
    key = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=5).get("key", [""])[0]
    client = await client_for_key(pool, key.strip()) if key.strip() else None
    if client is None or client.name != BOOTSTRAP_CLIENT:
        throttle.failed(address)
        return page("outbox_login.html", 401, lang="en", title=TITLE, error="That is not the bootstrap key.")
    answer = RedirectResponse("/demo/outbox", status_code=303, headers=PAGE_HEADERS)
    answer.set_cookie(
        demo_session.COOKIE,
        demo_session.issue(await _secret(request, pool), datetime.now(UTC)),
        max_age=int(demo_session.LIFETIME.total_seconds()),
        path="/demo",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return answer


async def _secret(request: Request, pool: Queryable) -> bytes:
    state = request.app.state
    if getattr(state, "demo_session_secret", None) is None:
        state.demo_session_secret = await signing_secret(pool, demo_session.SECRET_PURPOSE)
    secret: bytes = state.demo_session_secret
    return secret


def _not_here() -> Response:
    return page("message.html", 404, lang="en", title="Not found", paragraphs=["There is no page here."])


def _by_pathway(messages: list[SentMessage]) -> list[_Pathway]:
    """The messages grouped by pathway (one per demo patient's referral), the latest active first."""
    pathways: dict[str, _Pathway] = {}
    for message in messages:
        shown = pathways.setdefault(message.pathway_id, _Pathway(message.pathway_id, message.patient_name))
        shown.messages.append(
            _Shown(message.template, message.channel, message.sent_at, _with_links(message.body))
        )
    return list(pathways.values())


def _with_links(body: str) -> list[tuple[str, str | None]]:
    parts: list[tuple[str, str | None]] = []
    at = 0
    for found in _LINK.finditer(body):
        parts += [(body[at : found.start()], None), (found.group(), found.group())]
        at = found.end()
    return [*parts, (body[at:], None)]
