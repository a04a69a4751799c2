"""Who may use the codec server: a caller with an API key of the `history:decode` scope, sent as
`Authorization: Bearer <key>` (the Temporal CLI's `--codec-auth`, scripts, a proxy), or a browser signed in on
the server's own page (codec_server/session.py). Anything else is 401; a key without the scope 403; an
address that sent too many wrong keys 429, as on the API (api/auth.py)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Cookie, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api import demo_session
from api.auth import authenticated_client
from api.problems import Problem
from codec_server.session import COOKIE

SCOPE = "history:decode"
SESSION_CALLER = "codec-server-session"
_bearer = HTTPBearer(auto_error=False, description="An API key with the history:decode scope")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="dvr-codec"'}


async def codec_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[str | None, Cookie(alias=COOKIE)] = None,
) -> str:
    """The API client's name, or `SESSION_CALLER` for a signed-in browser."""
    if credentials is None:
        if demo_session.is_valid(request.app.state.session_secret, session, datetime.now(UTC)):
            return SESSION_CALLER
        raise Problem(
            401,
            "unauthorized",
            "Sign in on this server's page, or send Authorization: Bearer <API key with history:decode>.",
            headers=_CHALLENGE,
        )
    client = await authenticated_client(request, credentials)
    if SCOPE not in client.scopes:
        raise Problem(403, "forbidden", f"This API key lacks the scope {SCOPE!r}.")
    return client.name


Caller = Annotated[str, Depends(codec_caller)]
