"""SMS through a Twilio-compatible Messages REST API (Twilio itself, or any gateway that speaks it).

A message is `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded `To`, `From`, `Body` and
`StatusCallback` (where the gateway reports delivery: api/routes/sms_status.py), with HTTP basic auth; the
gateway's message `sid` is the provider id the outbox keeps.

Answers:
- 2xx: sent, the `sid` returned.
- 4xx (but 429): refused for good, never retried (`MessageRejected`); the codes in `UNREACHABLE_CODES` say the
  number itself is unusable, so the patient is unreachable by SMS, and `OPTED_OUT_CODES` that it unsubscribed
  at the gateway (an opt-out, as a STOP texted to us).
- 429, a refused connection: not taken, retried.
- 5xx, a timeout, a connection reset after the request went out: retried, and the outcome is unknown (the
  gateway, or a proxy in front of it, may have taken the message before failing).

No second send after an unknown outcome: the activity marks an attempt in flight before calling, and the
attempt after one whose outcome is unknown first calls `find_sent`, which lists the gateway's messages to that
number from that sender (`GET .../Messages.json?To=&From=`) and takes the one with the same body created since
the earlier attempt began (less `CLOCK_SKEW`), but never one whose sid is recorded for another message (a
diary's prompts read alike: the next prompt's message is not this one's); found, its sid is recorded and
nothing is sent (activities/notifications.py, db/outbox.py). The list is the gateway's only way to be
asked. It is not filtered on `DateSent`: Twilio sets `date_sent` only when a message leaves its queue, and
such a filter leaves out the message a lost answer most likely left behind, one still queued. Twilio
documents the list as newest first by `date_sent`; a message with none yet is taken at its `date_created`
(as the twilio-go client does), which is never later than its `date_sent`. So the pages are read until a
message listed before the window (at most `_MAX_LOOKUP_PAGES`): every message after it was created before
the window too.

Error texts carry the HTTP status and the gateway's error code only: its messages quote the number.
"""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import SecretStr

from activities.providers.base import MessageRejected, OutboundMessage, ProviderError

DEFAULT_TIMEOUT = 10.0
"""Seconds per request: a lookup and a send fit in the activity's 30 s."""

UNREACHABLE_CODES = frozenset(
    {
        21211,  # invalid 'To' phone number
        21214,  # 'To' phone number cannot be reached
        21612,  # 'To' number not reachable by SMS from this sender
        21614,  # 'To' number is not a mobile number
    }
)

OPTED_OUT_CODES = frozenset(
    {
        21610,  # the number has unsubscribed (replied STOP) at the gateway
    }
)

CLOCK_SKEW = timedelta(minutes=2)
"""How far the gateway's clock may be behind ours when matching a message to the attempt that sent it."""

_MAX_LOOKUP_PAGES = 5


class TwilioSms:
    name = "twilio"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        account_sid: str,
        auth_token: SecretStr,
        sender: str,
        status_callback: str | None,
        api_base: str = "https://api.twilio.com",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """`http` is shared and closed by its owner (the worker); `status_callback` is the URL the gateway
        reports delivery to (None: it reports nowhere)."""
        self._http = http
        self._base = api_base.rstrip("/")
        self._messages = f"{self._base}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._auth = httpx.BasicAuth(account_sid, auth_token.get_secret_value())
        self._sender = sender
        self._status_callback = status_callback
        self._timeout = timeout

    def __repr__(self) -> str:  # never the token
        return f"TwilioSms(api_base={self._base!r})"

    async def send(self, message: OutboundMessage) -> str:
        form = {"To": message.address, "From": self._sender, "Body": message.body}
        if self._status_callback:
            form["StatusCallback"] = self._status_callback
        response = await self._request("POST", self._messages, data=form)
        if response.is_success:
            sid = _json(response).get("sid")
            if not isinstance(sid, str) or not sid:
                raise ProviderError("twilio accepted without a message sid", outcome_unknown=True)
            return sid
        raise _refusal(response)

    async def find_sent(
        self, message: OutboundMessage, since: datetime, taken: frozenset[str] = frozenset()
    ) -> str | None:
        earliest = since - CLOCK_SKEW
        # No DateSent filter: it would leave out a message still queued (no date_sent yet).
        params: dict[str, str] | None = {"To": message.address, "From": self._sender}
        url: str | None = self._messages
        matches: list[tuple[datetime | None, str]] = []
        for _ in range(_MAX_LOOKUP_PAGES):
            if url is None:
                break
            response = await self._request("GET", url, params=params)
            if response.status_code != 200:
                raise ProviderError(f"twilio lookup answered {response.status_code}")
            page = _json(response)
            for sent in page.get("messages") or []:
                listed_at = _listed_at(sent)
                if listed_at is not None and listed_at < earliest:
                    # Newest first: this one and all after it were created before the window.
                    url = None
                    break
                sid = sent.get("sid")
                if isinstance(sid, str) and sid not in taken and _is_the_message(sent, message, earliest):
                    matches.append((_created(sent), sid))
            else:
                next_page = page.get("next_page_uri")
                url = f"{self._base}{next_page}" if isinstance(next_page, str) else None
            params = None  # the next page's URI carries the query
        if not matches:
            return None
        # Several: the earliest is the first attempt's; later ones would be sends of the same text.
        matches.sort(key=lambda m: (m[0] is None, m[0] or earliest))
        return matches[0][1]

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, url, auth=self._auth, timeout=self._timeout, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
            raise ProviderError("twilio unreachable") from None  # nothing was sent
        except httpx.TimeoutException:
            raise ProviderError("twilio timed out", outcome_unknown=True) from None
        except httpx.TransportError:  # a reset or a broken answer, after the request went out
            raise ProviderError("twilio connection lost", outcome_unknown=True) from None


def _refusal(response: httpx.Response) -> ProviderError:
    status = response.status_code
    if status == 429:
        return ProviderError("twilio busy (429)")
    if 400 <= status < 500:
        given = _json(response).get("code")
        code = given if isinstance(given, int) else None  # never the gateway's text: it quotes the number
        return MessageRejected(
            f"twilio refused ({status}, code {code})",
            unreachable=code in UNREACHABLE_CODES,
            opted_out=code in OPTED_OUT_CODES,
        )
    return ProviderError(f"twilio answered {status}", outcome_unknown=True)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _is_the_message(sent: dict[str, Any], message: OutboundMessage, earliest: datetime) -> bool:
    if sent.get("to") != message.address or sent.get("body") != message.body:
        return False
    created = _created(sent)
    return created is None or created >= earliest


def _created(sent: dict[str, Any]) -> datetime | None:
    """The gateway's `date_created` (RFC 2822), None when absent or unreadable."""
    return _date(sent.get("date_created"))


def _listed_at(sent: dict[str, Any]) -> datetime | None:
    """What the list is ordered by: `date_sent`, else (not sent yet) `date_created`."""
    return _date(sent.get("date_sent")) or _created(sent)


def _date(value: object) -> datetime | None:
    """An RFC 2822 date; one whose zone is unknown (`-0000`) read as UTC, so that it compares with ours."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
