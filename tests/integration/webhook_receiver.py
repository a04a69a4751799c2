"""A webhook receiver on a loopback port, for the webhook sender's tests.

It keeps every request it gets (body bytes and headers, in arrival order) and answers 204, unless told to
answer the next requests otherwise: a status (`"500"`), or `"hold"` (it takes the request and never answers
until `release()`: a receiver that hangs, or a sender killed mid-request). `always` answers every request so.
With `answer_after` it takes that long over each answer, and notes a pathway with two requests in hand at once
(`overlapped`): its events were not sent one after the other.
"""

import asyncio
import json
import socket
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Received:
    body: bytes
    headers: dict[str, str]
    answered: int | None
    """The status answered (None: held, no answer)."""

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.body)
        return event

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class WebhookReceiver:
    faults: list[str] = field(default_factory=list)
    """How to answer the next requests, one each: a status such as "500", or "hold"."""
    always: str | None = None
    """How to answer every request once `faults` is used up (None: 204)."""
    answer_after: float = 0.0
    received: list[Received] = field(default_factory=list)
    overlapped: set[str] = field(default_factory=set)
    most_in_hand: int = 0
    """The most requests it held at once, of any pathways."""
    _in_hand: dict[str, int] = field(default_factory=dict)
    holding: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/hook", self._take)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
        return self.url

    async def stop(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()

    def release(self) -> None:
        self.holding.set()

    def delivered(self) -> list[Received]:
        """The requests answered 2xx: what the sender counts as delivered."""
        return [r for r in self.received if r.answered is not None and 200 <= r.answered < 300]

    async def _take(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        pathway_id = str(json.loads(body).get("pathway_id"))
        self._in_hand[pathway_id] = self._in_hand.get(pathway_id, 0) + 1
        if self._in_hand[pathway_id] > 1:
            self.overlapped.add(pathway_id)
        self.most_in_hand = max(self.most_in_hand, sum(self._in_hand.values()))
        try:
            fault = self.faults.pop(0) if self.faults else self.always
            if fault == "hold":
                self.received.append(Received(body, headers, None))
                await self.holding.wait()
                raise asyncio.CancelledError  # no answer ever leaves
            status = int(fault) if fault is not None else 204
            self.received.append(Received(body, headers, status))
            if self.answer_after:
                await asyncio.sleep(self.answer_after)  # a slow receiver: the sender's next requests go on
            return web.Response(status=status)
        finally:
            self._in_hand[pathway_id] -= 1
