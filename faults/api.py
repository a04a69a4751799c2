"""An upstream system's API client as the README asks it to behave: every step sent with an Idempotency-Key,
and sent again with the same key after a 503 or a connection that failed, until it is answered (bounded).

It counts every answer of 500 or more other than 503 (a server error the client saw); those are retried too,
as a client would, so a scenario carries on and still reports them."""

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRY_PAUSE = 0.5
"""Seconds between retries when the answer names none (and the longest a Retry-After is honoured for: the
suite waits on state, and a 5 s Retry-After would only slow every scenario down)."""


class GaveUp(Exception):
    """A request was not answered (other than 503 or a failed connection) within its deadline."""


@dataclass
class ApiClient:
    base_url: str
    headers: dict[str, str]
    deadline: float = 180.0
    """Seconds a request is retried for before the client gives up (GaveUp)."""
    server_errors: list[str] = field(default_factory=list)
    """"<status> <method> <route>" of every answer ≥ 500 other than 503."""
    unavailable: int = 0
    """Answers 503 and failed connections, each retried."""
    accepted: list[tuple[float, float]] = field(default_factory=list)
    """(first sent, answered), monotonic, of every POST answered 2xx."""
    _http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> "ApiClient":
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=self.headers, timeout=60)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def request(
        self, method: str, path: str, body: Any = None, *, key: str | None = None
    ) -> httpx.Response:
        """The first answer that is neither a 503 nor a failed connection (nor another 5xx, counted)."""
        assert self._http is not None
        headers = {"Idempotency-Key": key or f"fault-{uuid.uuid4()}"} if method != "GET" else {}
        sent_at = time.monotonic()
        give_up_at = sent_at + self.deadline
        while True:
            try:
                answer = await self._http.request(method, path, json=body, headers=headers)
            except httpx.TransportError:
                answer = None
            if answer is not None and answer.status_code < 500:
                if method == "POST" and answer.is_success:
                    self.accepted.append((sent_at, time.monotonic()))
                return answer
            if answer is not None and answer.status_code != 503:
                self.server_errors.append(f"{answer.status_code} {method} {_route(path)}")
            else:
                self.unavailable += 1
            if time.monotonic() > give_up_at:
                raise GaveUp(f"{method} {_route(path)} unanswered after {self.deadline:.0f} s")
            await asyncio.sleep(_pause(answer))

    async def post(self, path: str, body: Any, *, key: str | None = None) -> httpx.Response:
        return await self.request("POST", path, body, key=key)

    async def view(self, pathway_id: str) -> dict[str, Any] | None:
        """The pathway's view; None when it is not found."""
        answer = await self.request("GET", f"/v1/pathways/{pathway_id}")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        view: dict[str, Any] = answer.json()
        return view

    def first_accepted_after(self, moment: float) -> float | None:
        """When the first POST sent after `moment` was answered 2xx (monotonic); None if none was."""
        return min((answered for sent, answered in self.accepted if sent >= moment), default=None)

    async def ready(self) -> bool:
        assert self._http is not None
        try:
            return (await self._http.get("/readyz", timeout=2)).status_code == 200
        except httpx.HTTPError:
            return False


def _pause(answer: httpx.Response | None) -> float:
    if answer is None:
        return RETRY_PAUSE
    try:
        return min(float(answer.headers.get("Retry-After", RETRY_PAUSE)), RETRY_PAUSE)
    except ValueError:
        return RETRY_PAUSE


def _route(path: str) -> str:
    """The path with the pathway id left out (no identifiers in the report)."""
    parts = path.split("/")
    return "/".join("{id}" if part.startswith("pathway-") else part for part in parts)
