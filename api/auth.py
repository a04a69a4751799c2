"""Bearer API keys with scopes: 401 without a valid key, 403 without the scope, 429 after repeated wrong keys.

A client address that sent too many wrong keys is refused before its key is looked up (api/auth_throttle.py).
A key found is kept for a few seconds (api/recent.py), by its hash: a wrong key is looked up every time.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth_throttle import AuthThrottle
from api.problems import Problem
from api.recent import Recent
from config.settings import Settings
from db.api_clients import ApiClient, client_for_hash, hash_key

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="dvr-pathway"'}


def install_key_checks(app: FastAPI, settings: Settings) -> None:
    """What `authenticated_client` keeps on an app (the API's and the codec server's): the wrong-key throttle
    and the keys found a moment ago."""
    app.state.auth_throttle = AuthThrottle(
        allowed=settings.auth_failures_allowed, window=settings.auth_failure_window_seconds
    )
    app.state.known_keys = Recent[str, ApiClient](settings.api_key_cache_seconds)


async def authenticated_client(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> ApiClient:
    if credentials is None:
        raise Problem(
            401, "unauthorized", "An API key is required: Authorization: Bearer <key>.", headers=_CHALLENGE
        )
    throttle: AuthThrottle = request.app.state.auth_throttle
    address = request.client.host if request.client is not None else "unknown"
    throttle.check(address)
    known: Recent[str, ApiClient] = request.app.state.known_keys
    digest = hash_key(credentials.credentials)
    client = known.get(digest)
    if client is None:
        client = await client_for_hash(request.app.state.pool, digest)
        if client is not None:
            known.put(digest, client)
    if client is None:
        throttle.failed(address)
        raise Problem(401, "unauthorized", "The API key is not valid.", headers=_CHALLENGE)
    return client


def require_scope(scope: str) -> Callable[..., Awaitable[ApiClient]]:
    async def _check(client: Annotated[ApiClient, Depends(authenticated_client)]) -> ApiClient:
        if scope not in client.scopes:
            raise Problem(403, "forbidden", f"This API key lacks the scope {scope!r}.")
        return client

    return _check
