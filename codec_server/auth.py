"""Who may use the codec server, each way a bearer token or a cookie:

- `Authorization: Bearer <access token>` of the OpenID provider, when one is configured: what the Temporal UI
  passes for the signed-in user ("pass access token"), checked by codec_server/oidc.py;
- `Authorization: Bearer <API key>` with the `history:decode` scope, when the server has the database: the
  Temporal CLI's `--codec-auth`, scripts, a proxy;
- the session cookie of a browser signed in on the server's own page with such a key
  (codec_server/session.py): the local dev UI, which has no sign-in of its own, sends it with "include
  cross-origin credentials".

Anything else is 401; a key without the scope, or limited to clinic sites, 403 (a payload does not say
whose site it is, so only a key for every site may read them); an address that sent too many wrong API keys
429, as on the API (api/auth.py), while wrong access tokens are not counted (they cost no look-up); 503
while the OpenID provider's keys cannot be read, or while the database cannot look a session up (raised as a
Problem, so the answer still carries the CORS headers the UI needs to read it)."""

from datetime import UTC, datetime
from typing import Annotated

import asyncpg
from fastapi import Cookie, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import authenticated_client
from api.problems import Problem
from codec_server import session
from codec_server.oidc import OidcVerifier, ProviderUnreachable, is_jwt
from db.api_clients import ApiClient

SCOPE = "history:decode"
# What a session look-up meets while PostgreSQL is down, refusing connections, or too slow.
DATABASE_OUTAGES: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
DATABASE_UNAVAILABLE = "The database did not answer; try again."
_bearer = HTTPBearer(auto_error=False, description="An API key with the history:decode scope")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="dvr-codec"'}


async def codec_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Cookie(alias=session.COOKIE)] = None,
) -> str:
    """`oidc:<subject>` for a token, the API client's name for a key or for a signed-in browser's session."""
    if credentials is None:
        client = await session_client(request, cookie)
        if client is not None:
            return client.name
        raise Problem(
            401,
            "unauthorized",
            "Send Authorization: Bearer <access token, or API key with history:decode>, or sign in on this"
            " server's page.",
            headers=_CHALLENGE,
        )
    verifier: OidcVerifier | None = request.app.state.oidc
    if verifier is not None and is_jwt(credentials.credentials):
        return f"oidc:{await _token_subject(verifier, credentials.credentials)}"
    if request.app.state.pool is None:
        raise Problem(401, "unauthorized", "This server takes access tokens only.", headers=_CHALLENGE)
    client = await authenticated_client(request, credentials)
    if refusal := refusal_of(client):
        raise Problem(403, "forbidden", refusal)
    return client.name


async def session_client(request: Request, value: str | None) -> ApiClient | None:
    """The API client of a browser's session cookie, if the session is still good: signed here, unexpired,
    not signed out, and its client still unrevoked, with the scope and every site (looked up on each use, so
    a session never outlives what its key may do)."""
    pool: asyncpg.Pool | None = request.app.state.pool
    found = session.read(request.app.state.session_secret, value, datetime.now(UTC))
    if found is None or pool is None:
        return None
    try:
        client = await session.session_client(pool, found)
    except DATABASE_OUTAGES:
        raise Problem(
            503, "database-unavailable", DATABASE_UNAVAILABLE, headers={"Retry-After": "5"}
        ) from None
    if client is None or refusal_of(client) is not None:
        return None
    return client


def refusal_of(client: ApiClient) -> str | None:
    """Why an API client may not use the codec server, if it may not."""
    if SCOPE not in client.scopes:
        return f"This API key lacks the scope {SCOPE!r}."
    if client.clinic_sites is not None:
        return "This API key is limited to clinic sites; decoding history needs a key for every site."
    return None


async def _token_subject(verifier: OidcVerifier, token: str) -> str:
    # Not throttled: a token costs no database look-up and cannot be guessed (its signature is checked), while
    # one browser's stale token would lock out everyone behind the same proxy address.
    try:
        subject = await verifier.subject(token)
    except ProviderUnreachable as err:
        raise Problem(503, "identity-provider-unreachable", str(err), headers={"Retry-After": "10"}) from None
    if subject is None:
        raise Problem(401, "unauthorized", "The access token is not valid.", headers=_CHALLENGE)
    return subject


Caller = Annotated[str, Depends(codec_caller)]
