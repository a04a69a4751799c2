"""Checks the access tokens the Temporal UI passes to the codec server ("pass access token"): JWTs of the
clinic's OpenID Connect provider, the one the UI signs staff in with (`DVR_CODEC_OIDC_ISSUER`).

A token counts when its signature verifies with one of the keys the provider publishes (its discovery
document's `jwks_uri`), its `iss` is the provider's issuer, its `aud` one of `DVR_CODEC_OIDC_AUDIENCES`, and
it has not expired. Only asymmetric algorithms are taken: never `none`, never a shared secret, so a token
signed with the provider's public key as a secret is refused. The keys are kept, and fetched again when a
token names a key id not among them (the provider rotated), at most once per `refetch_after` seconds, so
tokens with made-up key ids cannot make the server hammer the provider; one fetch at a time, and after a
failed one none for `retry_after_failure` seconds (answered as the provider being unreachable meanwhile).
The discovery document must name the configured issuer: a provider claiming another is refused.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
LEEWAY_SECONDS = 30  # clock skew between the provider and this server
REFETCH_AFTER_SECONDS = 60.0
RETRY_AFTER_FAILURE_SECONDS = 10.0  # as the codec server's Retry-After
# The key type (JWK `kty`) each algorithm family needs, for keys published without an `alg`.
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


class ProviderUnreachable(Exception):
    """The provider's discovery document or keys could not be read."""


class _WrongIssuer(Exception):
    """The discovery document names an issuer other than the configured one."""


def is_jwt(token: str) -> bool:
    """Whether `token` has a JWT's shape (API keys do not): a readable header before the first dot."""
    try:
        jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return False
    return True


class OidcVerifier:
    def __init__(
        self,
        issuer: str,
        audiences: list[str],
        http: httpx.AsyncClient,
        *,
        refetch_after: float = REFETCH_AFTER_SECONDS,
        retry_after_failure: float = RETRY_AFTER_FAILURE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer, self.audiences, self._http = issuer.rstrip("/"), audiences, http
        self.refetch_after, self.retry_after_failure, self._clock = refetch_after, retry_after_failure, clock
        self._expected_issuer: str | None = None
        self._keys: dict[str | None, tuple[jwt.PyJWK, str | None]] = {}  # by key id: the key, its `alg`
        self._next_fetch_at: float | None = None  # None: never fetched
        self._failure: str | None = None  # why the last fetch failed, while it is the last one
        self._fetching = asyncio.Lock()  # tokens of an unknown key id arriving together fetch once

    async def subject(self, token: str) -> str | None:
        """The token's subject (`sub`) if the token is valid, else None. ProviderUnreachable when the keys
        are needed and cannot be read."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            return None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:  # a list or object is not hashable
            return None
        found = await self._key(header.get("kid"))
        if found is None:
            return None
        key, declared = found
        if declared is not None and declared != algorithm:  # a key published for one algorithm only
            return None
        if _KEY_TYPES.get(algorithm[:2]) != key.key_type:  # e.g. ES256 on an RSA key published without `alg`
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.audiences,
                issuer=self._expected_issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except (jwt.PyJWTError, TypeError, ValueError):
            # Not only InvalidTokenError: a key that does not fit the algorithm raises InvalidKeyError or
            # TypeError, which is still the caller's bad token, not the server's fault.
            return None
        return str(claims["sub"])

    async def _key(self, key_id: str | None) -> tuple[jwt.PyJWK, str | None] | None:
        found = self._lookup(key_id)
        if found is not None:
            return found
        async with self._fetching:
            found = self._lookup(key_id)  # fetched while this token waited
            if found is not None:
                return found
            if self._next_fetch_at is not None and self._clock() < self._next_fetch_at:
                if self._failure is not None:
                    raise ProviderUnreachable(self._failure)
                return None
            await self._fetch()
        return self._lookup(key_id)

    def _lookup(self, key_id: str | None) -> tuple[jwt.PyJWK, str | None] | None:
        if key_id is None and len(self._keys) == 1:  # a provider with one key may leave `kid` out
            return next(iter(self._keys.values()))
        return self._keys.get(key_id)

    async def _fetch(self) -> None:
        try:
            discovery = await self._json(f"{self.issuer}/.well-known/openid-configuration")
            # OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer it was fetched for;
            # else a provider (or whoever answers at its address) could vouch for another issuer's tokens.
            named = str(discovery.get("issuer") or "")
            if named.rstrip("/") != self.issuer:
                raise _WrongIssuer(f"its discovery document names the issuer {named[:200]!r}")
            keys = _signing_keys((await self._json(str(discovery["jwks_uri"])))["keys"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError, _WrongIssuer) as err:
            detail = str(err) if isinstance(err, _WrongIssuer) else type(err).__name__
            self._failure = f"the OpenID provider's keys could not be read: {detail}"
            # Back off: every token would otherwise fetch again while the provider is down.
            self._next_fetch_at = self._clock() + self.retry_after_failure
            raise ProviderUnreachable(self._failure) from None
        self._expected_issuer = named
        self._keys, self._failure = keys, None
        self._next_fetch_at = self._clock() + self.refetch_after

    async def _json(self, url: str) -> dict[str, Any]:
        answer = await self._http.get(url)
        answer.raise_for_status()
        body = answer.json()
        if not isinstance(body, dict):
            raise ValueError("not a JSON object")
        return body


def _signing_keys(entries: list[Any]) -> dict[str | None, tuple[jwt.PyJWK, str | None]]:
    """The published signing keys this server can use, by key id (others, e.g. encryption keys, skipped)."""
    keys: dict[str | None, tuple[jwt.PyJWK, str | None]] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            keys[entry.get("kid")] = (jwt.PyJWK(entry), entry.get("alg"))
        except jwt.PyJWTError:
            continue  # a key type or curve this server cannot use
    return keys
