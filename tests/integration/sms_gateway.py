"""A Twilio-compatible Messages API on a loopback port, for the SMS provider's tests.

It speaks the two calls the provider makes (create a message, list messages) with HTTP basic auth, and can be
told how to answer the next creates: a 5xx, a 400 with an error code, a slow answer, or the message taken and
the connection dropped without an answer (a reset after accept).

Dates as Twilio keeps them: a message taken is `queued`, with its `date_created` and no `date_sent` until it
leaves the queue (`send_queued`), so a `DateSent` filter leaves it out. The list is newest first by
`date_sent`, or `date_created` for a message not sent yet, in pages of `page_size` linked by `next_page_uri`.
"""

import asyncio
import base64
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

ACCOUNT_SID = "AC00000000000000000000000000000001"
AUTH_TOKEN = "test-gateway-auth-token"


@dataclass
class FakeSmsGateway:
    slow_seconds: float = 2.0
    """How long a "slow" create takes: longer than the provider's timeout in the tests."""
    page_size: int = 50
    messages: list[dict[str, Any]] = field(default_factory=list)
    creates: int = 0
    lookups: int = 0
    faults: list[str] = field(default_factory=list)
    """How to answer the next creates, one each: "500", "slow", "reset", or "400:<code>"."""
    _runner: web.AppRunner | None = None
    base_url: str = ""

    async def start(self) -> str:
        app = web.Application()
        path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        app.router.add_post(path, self._create)
        app.router.add_get(path, self._list)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(self._runner, sock)
        await site.start()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def send_queued(self) -> None:
        """The queued messages leave the queue: sent now."""
        now = format_datetime(datetime.now(UTC))
        for message in self.messages:
            if message["date_sent"] is None:
                message.update(status="sent", date_sent=now)

    def _authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    async def _create(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"code": 20003, "status": 401}, status=401)
        self.creates += 1
        form = await request.post()
        fault = self.faults.pop(0) if self.faults else None
        if fault == "500":
            return web.json_response({"code": 20500, "status": 500}, status=500)
        if fault and fault.startswith("400:"):
            code = int(fault.removeprefix("400:"))
            text = f"The 'To' number {form.get('To')!s} is not a valid phone number."
            return web.json_response({"code": code, "message": text, "status": 400}, status=400)
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)  # the caller has given up by now; nothing is stored
            return web.json_response({"code": 20504, "status": 504}, status=504)
        now = datetime.now(UTC)
        stored = {
            "sid": f"SM{uuid.uuid4().hex}",  # unique across gateways, as Twilio's are
            "to": form["To"],
            "from": form["From"],
            "body": form["Body"],
            "status": "queued",
            "status_callback": form.get("StatusCallback"),
            "date_created": format_datetime(now),
            "date_sent": None,  # set when it leaves the queue, not when it is taken
        }
        self.messages.append(stored)
        if fault == "reset":
            assert request.transport is not None
            request.transport.abort()  # taken, and no answer ever leaves
            raise asyncio.CancelledError
        public = {k: v for k, v in stored.items() if k != "status_callback"}
        return web.json_response(public, status=201)

    async def _list(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": 20003, "status": 401}, status=401)
        self.lookups += 1
        query = request.query
        since = date.fromisoformat(query["DateSent>"]) if "DateSent>" in query else None
        found = [
            {k: v for k, v in m.items() if k != "status_callback"}
            for m in reversed(self.messages)
            if m["to"] == query.get("To", m["to"])
            and m["from"] == query.get("From", m["from"])
            # A message not sent yet has no date_sent: a filter on it leaves the message out.
            and (since is None or (m["date_sent"] is not None and _day(m["date_sent"]) >= since))
        ]
        found.sort(key=_listed_at, reverse=True)  # stable: the latest taken first among equal dates
        page = int(query.get("Page", "0"))
        start = page * self.page_size
        rest = {k: v for k, v in query.items() if k != "Page"}
        more = start + self.page_size < len(found)
        next_page = f"{request.path}?{urlencode(rest | {'Page': str(page + 1)})}" if more else None
        return web.json_response(
            {"messages": found[start : start + self.page_size], "next_page_uri": next_page}
        )


def _listed_at(message: dict[str, Any]) -> datetime:
    return parsedate_to_datetime(message["date_sent"] or message["date_created"])


def _day(rfc2822: str) -> date:
    return parsedate_to_datetime(rfc2822).date()
