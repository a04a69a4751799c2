"""The codec server's application: `create_codec_app(settings, keys, pool)`.

Its callers are checked (codec_server/auth.py) against the application database's API keys, when it has
the database (`DATABASE_URL`), and against the OpenID provider's tokens, when one is configured
(`DVR_CODEC_OIDC_ISSUER`); at least one of them. Browsers may call it only from the configured Temporal UI
origins (`DVR_CODEC_CORS_ORIGINS`): the CORS preflight of any other origin is refused, and no answer carries
permission for it to be read. The UI sends `Content-Type`, `X-Namespace` and, with "pass access token",
`Authorization` (and `Authorization-Extras`, the ID token, unused here); with "include cross-origin
credentials" it sends the session cookie, so credentials are allowed for those origins alone.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel

from api.auth import install_key_checks
from api.body_limit import BodyLimitMiddleware
from api.problems import install_problem_handlers
from codec_server import payloads, sign_in
from codec_server.oidc import OidcVerifier
from codec_server.session import session_secret
from config.codec_keys import CodecKeys
from config.payload_codec import EncryptionCodec
from config.settings import Settings
from db.pool import create_pool

# The UI decodes one event's payloads at a time, each under Temporal's 2 MiB payload limit; room for a few.
MAX_BODY_BYTES = 8 * 1024 * 1024
UI_HEADERS = ["Authorization", "Authorization-Extras", "Content-Type", "X-Namespace"]


class Liveness(BaseModel):
    status: str


def create_codec_app(settings: Settings, keys: CodecKeys, *, pool: asyncpg.Pool | None = None) -> FastAPI:
    """The app; without `pool` it opens one on `settings.database_url` (where the API keys are) if set."""
    if pool is None and settings.database_url is None and not settings.codec_oidc_issuer:
        raise ValueError("the codec server checks callers by API key (DATABASE_URL) or token (OIDC issuer)")
    http = httpx.AsyncClient(timeout=10.0)  # to the OpenID provider

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = None
        if pool is None and settings.database_url is not None:
            owned = app.state.pool = await create_pool(settings.database_url, max_size=4)
        try:
            yield
        finally:
            await http.aclose()
            if owned is not None:
                await owned.close()

    app = FastAPI(
        title="DVR codec server",
        version="1",
        summary="Encodes and decodes Temporal payloads for the Temporal UI and CLI.",
        lifespan=lifespan,
    )
    app.state.settings, app.state.pool = settings, pool
    app.state.oidc = (
        OidcVerifier(settings.codec_oidc_issuer, settings.oidc_audiences, http)
        if settings.codec_oidc_issuer
        else None
    )
    app.state.codec = EncryptionCodec(keys)
    app.state.session_secret = session_secret(keys)
    install_key_checks(app, settings)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=MAX_BODY_BYTES)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.ui_origins,
        allow_methods=["POST"],
        allow_headers=UI_HEADERS,
        allow_credentials=True,
        max_age=600,
    )
    install_problem_handlers(app)
    app.include_router(payloads.router)
    app.include_router(sign_in.router)

    @app.get("/healthz", summary="The process is alive")
    async def healthz() -> Liveness:
        return Liveness(status="ok")

    return app
