"""Bearer API keys with scopes: 401 without a valid key, 403 without the scope."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import Problem
from db.api_clients import ApiClient, client_for_key

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="dvr-pathway"'}


async def authenticated_client(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> ApiClient:
    if credentials is None:
        raise Problem(
            401, "unauthorized", "An API key is required: Authorization: Bearer <key>.", headers=_CHALLENGE
        )
    client = await client_for_key(request.app.state.pool, credentials.credentials)
    if client is None:
        raise Problem(401, "unauthorized", "The API key is not valid.", headers=_CHALLENGE)
    return client


def require_scope(scope: str) -> Callable[..., Awaitable[ApiClient]]:
    async def _check(client: Annotated[ApiClient, Depends(authenticated_client)]) -> ApiClient:
        if scope not in client.scopes:
            raise Problem(403, "forbidden", f"This API key lacks the scope {scope!r}.")
        return client

    return _check
