"""How the simulation reaches the clinic's stack: its API as an upstream system and staff (with a key), the
SMS gateway's inbound webhook as a patient's phone (signed as the gateway signs), the patient's link page as
their browser, and the demo outbox (the messages sent, with their links) as their inbox."""

import asyncio
import html
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from twilio.request_validator import RequestValidator

from domain.link_tokens import TOKEN_CHARS

SMS_PATH = "/v1/sms/inbound"
RETRY_PAUSE = 0.5
"""Seconds before a request answered 503 (or not at all) is sent again."""
_LINK = re.compile(rf"/p/([A-Za-z0-9_-]{{{TOKEN_CHARS}}})")
_FORM = re.compile(r"<form\b.*?</form>", re.DOTALL)
_HIDDEN = re.compile(r'<input type="hidden" name="(answer_id|question)" value="([^"]*)"')


@dataclass(frozen=True)
class Failure:
    """An answer the clinic should never give (a 5xx other than a 503 asking to retry), or none at all
    within the client's timeout (status 0)."""

    method: str
    path: str
    status: int
    pathway_id: str | None


@dataclass
class Clinic:
    api: httpx.AsyncClient
    """The API, with a bearer key of every scope."""
    db: asyncpg.Pool
    """The stack's PostgreSQL, read only for the outbox."""
    sms_token: str
    public_url: str
    failures: list[Failure] = field(default_factory=list)
    refused: int = 0
    """409s: a step that met another (a patient's answer as the prompt closed, say); expected now and then."""
    steps_not_taken: list[str] = field(default_factory=list)
    """"<status> <route> <problem type>" of each step answered neither 200 nor 409 (a 4xx), or never
    answered ("unanswered <route>": every try a 503 or no answer; a patient's text or link answer too): the
    simulation's people never got it recorded."""
    requests: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    """Patients' answers by way and fate: `sms taken`, `link not taken`, ..."""

    async def read(self, pathway_id: str) -> dict[str, Any] | None:
        answer = await self._send("GET", f"/v1/pathways/{pathway_id}", pathway_id)
        if answer is None or answer.status_code != 200:
            return None
        view: dict[str, Any] = answer.json()
        return view

    async def step(self, pathway_id: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """A step POST, sent again with the same Idempotency-Key while the API answers 503 (step pending)."""
        route = f"/v1/pathways/{pathway_id}/{path}"
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        answer = await self._answered(10, "POST", route, pathway_id, json=body, headers=headers)
        if answer is None:
            self.steps_not_taken.append(f"unanswered {_shape(route)}")
            return None
        if answer.status_code == 409:
            self.refused += 1
        elif answer.status_code != 200:
            problem = str(answer.json().get("type", "")).rsplit("/", 1)[-1] if _is_json(answer) else ""
            self.steps_not_taken.append(f"{answer.status_code} {_shape(route)} {problem}".rstrip())
        if answer.status_code != 200:
            return None
        view: dict[str, Any] = answer.json()
        return view

    async def refer(self, body: dict[str, Any]) -> str | None:
        headers = {"Idempotency-Key": f"sim-{body['referral_id']}"}
        answer = await self._answered(10, "POST", "/v1/referrals", None, json=body, headers=headers)
        if answer is None:
            return None
        if answer.status_code != 201:
            raise AssertionError(f"referral refused: {answer.status_code} {answer.text[:300]}")
        pathway_id: str = answer.json()["pathway_id"]
        return pathway_id

    async def text(self, pathway_id: str, phone: str, body: str) -> int:
        """The patient texts the clinic: the gateway's webhook, signed, sent again after a 503 (same sid)."""
        form = {"From": phone, "To": "+16025559999", "Body": body, "MessageSid": f"SM{uuid.uuid4().hex}"}
        signature = RequestValidator(self.sms_token).compute_signature(self.public_url + SMS_PATH, form)
        headers = {"X-Twilio-Signature": signature}  # sent again after a 503 as the gateway does: same sid
        answer = await self._answered(5, "POST", SMS_PATH, pathway_id, data=form, headers=headers)
        if answer is None:
            self.answers["sms unanswered"] += 1
            self.steps_not_taken.append(f"unanswered {SMS_PATH}")
            return 0
        taken = "is recorded" in answer.text
        self.answers["sms R" if body == "R" else "sms " + ("taken" if taken else "not taken")] += 1
        return answer.status_code

    async def link_of(self, pathway_id: str) -> str | None:
        """The token of the patient's link in the newest message that carries one (the demo outbox)."""
        body = await self.db.fetchval(
            "select body from outbox where pathway_id = $1 and recipient = 'patient' and status = 'sent'"
            " and body like '%/p/%' order by sent_at desc, id desc limit 1",
            pathway_id,
        )
        match = _LINK.search(body or "")
        return match.group(1) if match else None

    async def answer_link(
        self, pathway_id: str, fields: dict[str, str | list[str]], *, change: bool = False
    ) -> bool:
        """Opens the patient's link and sends the form it shows (the question, or the appointment change
        when `change`) with `fields`; True when the page took it."""
        token = await self.link_of(pathway_id)
        if token is None:
            return False
        page = await self._send("GET", f"/p/{token}", pathway_id)
        if page is None or page.status_code != 200:
            return False
        for form in _FORM.findall(page.text):
            hidden = {name: html.unescape(value) for name, value in _HIDDEN.findall(form)}
            is_change = 'name="wish"' in form
            if len(hidden) == 2 and is_change == change and ("consents" not in form):
                answer = {**hidden, **fields}  # sent again after a 503, as the page asks: the same answer id
                sent = await self._answered(
                    5, "POST", f"/p/{token}", pathway_id, data=answer, follow_redirects=False
                )
                taken = sent is not None and sent.status_code in (200, 303)
                if sent is None:
                    self.steps_not_taken.append("unanswered /p/{token}")
                self.answers["link " + ("taken" if taken else f"not taken ({_status(sent)})")] += 1
                return taken
        self.answers["link: no form"] += 1
        return False

    async def _answered(
        self, tries: int, method: str, path: str, pathway_id: str | None, **kwargs: Any
    ) -> httpx.Response | None:
        """The first answer other than a 503, the request sent again after a pause up to `tries` times; None
        when every try met a 503 or no answer."""
        for _ in range(tries):
            answer = await self._send(method, path, pathway_id, **kwargs)
            if answer is not None and answer.status_code != 503:
                return answer
            await asyncio.sleep(RETRY_PAUSE)
        return None

    async def _send(
        self, method: str, path: str, pathway_id: str | None, **kwargs: Any
    ) -> httpx.Response | None:
        self.requests += 1
        try:
            answer = await self.api.request(method, path, **kwargs)
        except httpx.HTTPError:
            self.failures.append(Failure(method, _shape(path), 0, pathway_id))
            return None
        if answer.status_code >= 500 and answer.status_code != 503:
            self.failures.append(Failure(method, _shape(path), answer.status_code, pathway_id))
        return answer


def _is_json(answer: httpx.Response) -> bool:
    return "json" in answer.headers.get("content-type", "")


def _status(answer: httpx.Response | None) -> str:
    return "no answer" if answer is None else str(answer.status_code)


def _shape(path: str) -> str:
    """The path without its ids and tokens (they are opaque, but a report needs only the route)."""
    path = re.sub(r"pathway-[0-9a-f-]+", "{id}", path)
    return _LINK.sub("/p/{token}", path)
