"""A stand-in for the clinic's OpenID Connect provider: its signing keys, its discovery document and key
set, and the access tokens it would issue, for tests of the codec server's token check."""

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

AUDIENCE = "temporal-ui"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Provider:
    """Publishes its keys at `{issuer}/jwks`; `issuer` is where it is served (set it before use)."""

    issuer: str = "https://idp.clinic.example"
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=lambda: {"key-1": new_key()})
    fetches: int = 0
    publishes_alg: bool = True  # whether each published key says its algorithm (`alg` is optional in a JWK)
    claimed_issuer: str | None = None  # what its discovery document calls it, if not `issuer`

    def token(self, key_id: str = "key-1", *, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        """An access token signed with `key_id`'s key; `claims` override the usual ones."""
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "nurse-kim",
            "iat": now,
            "exp": now + 300,
            **claims,
        }
        return jwt.encode(
            {k: v for k, v in body.items() if v is not None},
            self.keys[key_id],
            algorithm="RS256",
            headers={"kid": key_id, **(headers or {})},
        )

    def discovery(self) -> dict[str, Any]:
        return {"issuer": self.claimed_issuer or self.issuer, "jwks_uri": f"{self.issuer}/jwks"}

    def jwks(self) -> dict[str, Any]:
        self.fetches += 1
        published = []
        for key_id, key in self.keys.items():
            entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            published.append(
                {**entry, "kid": key_id, "use": "sig"} | ({"alg": "RS256"} if self.publishes_alg else {})
            )
        return {"keys": published}

    def transport(self) -> httpx.MockTransport:
        """Serves the provider to an httpx client in the same process."""

        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/.well-known/openid-configuration"):
                return httpx.Response(200, json=self.discovery())
            if request.url.path.endswith("/jwks"):
                return httpx.Response(200, json=self.jwks())
            return httpx.Response(404)

        return httpx.MockTransport(answer)

    def app(self) -> Starlette:
        """Serves the provider over HTTP."""

        async def discovery(request: Request) -> JSONResponse:
            return JSONResponse(self.discovery())

        async def jwks(request: Request) -> JSONResponse:
            return JSONResponse(self.jwks())

        return Starlette(routes=[Route("/.well-known/openid-configuration", discovery), Route("/jwks", jwks)])
