"""The codec server's page for people: `GET /` shows whether this browser is signed in; `POST /sign-in`
takes an API key with the `history:decode` scope from a form (never from an address) and answers with the
session cookie (codec_server/session.py); `POST /sign-out` ends it, server-side too (a copy of the cookie
stops working). Wrong keys count towards the same
throttle as bearer keys, and each sign-in is audited under the key's client.

Both POSTs must come from this server's own page (`_same_origin`): a browser's `Sec-Fetch-Site` must say
`same-origin`, or, from a browser too old to send it, its `Origin` must be this server's. A request with
neither header is not a browser's (browsers send `Origin` on every form POST), so curl and scripts may still
sign in; a cross-site page can forge neither header, so it can neither sign a browser in to its own key
(login CSRF) nor sign it out."""

import logging
from datetime import UTC, datetime
from urllib.parse import parse_qs

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.auth_throttle import AuthThrottle
from api.pages.render import PAGE_HEADERS, page
from codec_server import session
from codec_server.auth import DATABASE_OUTAGES, SCOPE, refusal_of, session_client
from codec_server.session import COOKIE
from db import audit
from db.api_clients import client_for_key, hash_key

router = APIRouter(include_in_schema=False)
TITLE = "DVR codec server"
SIGN_OUT_NOT_RECORDED = (
    "This browser is signed out, but the server could not record the sign-out, so a copy of the session"
    " cookie would still work until it expires: sign in and out again once the server is back."
)
_log = logging.getLogger(__name__)


@router.get("/")
async def show(request: Request) -> Response:
    signed_in = await session_client(request, request.cookies.get(COOKIE)) is not None
    return _page(request, signed_in=signed_in)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    if not _same_origin(request):
        return _page(request, 403, error="Sign in from this server's own page.")
    throttle: AuthThrottle = request.app.state.auth_throttle
    address = request.client.host if request.client is not None else "unknown"
    throttle.check(address)
    form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=5)
    key = form.get("key", [""])[0].strip()
    if request.app.state.pool is None:
        return _page(request, 404)  # no API keys here: the UI's own sign-in is the way in
    client = await client_for_key(request.app.state.pool, key) if key else None
    if client is None:
        throttle.failed(address)
        return _page(request, 401, error=f"That is not an API key with the {SCOPE} scope.")
    if refusal := refusal_of(client):
        return _page(request, 403, error=refusal)
    await audit.record(request.app.state.pool, actor=client.name, action="codec.sign_in")
    answer = RedirectResponse("/", status_code=303, headers=PAGE_HEADERS)
    answer.set_cookie(
        COOKIE,
        session.issue(request.app.state.session_secret, client.client_id, hash_key(key), datetime.now(UTC)),
        max_age=int(session.LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return answer


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    if not _same_origin(request):
        return _page(request, 403, error="Sign out from this server's own page.")
    pool: asyncpg.Pool | None = request.app.state.pool
    ended = session.read(request.app.state.session_secret, request.cookies.get(COOKIE), datetime.now(UTC))
    answer: Response = RedirectResponse("/", status_code=303, headers=PAGE_HEADERS)
    if ended is not None and pool is not None:
        try:
            await session.end_session(pool, ended)  # else a copy of the cookie would live on until it expires
        except DATABASE_OUTAGES as err:
            # This browser is signed out all the same (the cookie goes below), but a copy of the cookie would
            # still work: say so, so that the person tries again.
            _log.warning(
                "codec server sign-out not recorded: the database did not answer (%s)", type(err).__name__
            )
            answer = _page(request, 503, error=SIGN_OUT_NOT_RECORDED)
            answer.headers["Retry-After"] = "5"
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return answer


def _same_origin(request: Request) -> bool:
    """Whether a POST comes from this server's own pages, or from no browser at all (module docstring)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == f"{request.url.scheme}://{request.url.netloc}"
    return True


def _page(
    request: Request, status: int = 200, *, signed_in: bool = False, error: str | None = None
) -> Response:
    origins: list[str] = request.app.state.settings.ui_origins
    return page(
        "codec_sign_in.html",
        status,
        lang="en",
        title=TITLE,
        signed_in=signed_in,
        offered=request.app.state.pool is not None,
        error=error,
        origins=origins,
    )
