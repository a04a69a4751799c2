"""Where the stack's messages go in the suite: the fake Twilio-compatible gateway of the SMS tests
(tests/integration/sms_gateway.py) and a real SMTP server (aiosmtpd) on loopback ports, each told to
misbehave for its next few messages, then to take them; each keeps what it took, to count duplicates."""

import asyncio
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.integration.processes import free_port
from tests.integration.sms_gateway import ACCOUNT_SID, AUTH_TOKEN, FakeSmsGateway

SENDER = "DVR Clinic <noreply@clinic.example>"
SMS_FROM = "+16025550199"
TIMEOUT_SECONDS = 11.0
"""How long a "slow" answer takes: longer than the providers' 10 s timeouts (activities/providers/)."""
SMTP_FAULTS = ("421", "554", "slow", "reset-before-answer", "reset-after-answer")
"""What the SMTP server can do with a message instead of taking it: 421 (service not available: retried),
554 (refused for good, RFC 5321: never retried, the message is undelivered), no answer within the client's
timeout, the message kept and the connection reset before the 250 left (the client cannot know: SMTP has no
way to be asked, so it sends again with the same Message-ID), or reset right after the 250 left."""


@dataclass
class FaultyMailbox:
    """An aiosmtpd handler: the next messages meet `faults` in turn (one each), then are taken."""

    faults: list[str] = field(default_factory=list)
    received: list[tuple[str, str]] = field(default_factory=list)
    """(recipient, Message-ID) of every message kept."""
    unanswered: Counter[str] = field(default_factory=Counter)
    """Message-IDs kept whose 250 never left (reset before the answer): a copy under the same id is the
    protocol's, not a duplicate the orchestrator could have avoided."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault in ("421", "554"):
            return f"{fault} {'4.3.2 try again later' if fault == '421' else '5.6.0 message refused'}"
        if fault == "slow":
            await asyncio.sleep(TIMEOUT_SECONDS)
            return "451 4.4.2 timed out"
        message_id = str(message_from_bytes(envelope.content)["Message-ID"])
        with self._lock:
            self.received += [(rcpt, message_id) for rcpt in envelope.rcpt_tos]
            if fault == "reset-before-answer":
                self.unanswered[message_id] += 1
        transport = server.transport
        assert isinstance(transport, asyncio.Transport)
        if fault == "reset-before-answer":
            transport.abort()
            return "421 4.4.2 connection lost"  # never leaves: the connection is gone
        if fault == "reset-after-answer":
            asyncio.get_running_loop().call_later(0.05, transport.abort)
        return "250 Message accepted for delivery"

    def pending_faults(self) -> int:
        with self._lock:
            return len(self.faults)

    def _kept(self, message_ids: set[str]) -> Counter[str]:
        with self._lock:
            return Counter(mid for _, mid in self.received if mid in message_ids)

    def duplicates(self, message_ids: set[str]) -> Counter[str]:
        """Copies of these messages (by Message-ID, to whichever recipient: a patient or the care team)
        kept more than once, less those the protocol explains: how many, by Message-ID."""
        kept = self._kept(message_ids)
        with self._lock:
            extra = {mid: times - 1 - self.unanswered[mid] for mid, times in kept.items()}
        return Counter({mid: n for mid, n in extra.items() if n > 0})

    def protocol_copies(self, message_ids: set[str]) -> int:
        """Copies kept again after a reset before the server's answer (same Message-ID, by design)."""
        kept = self._kept(message_ids)
        with self._lock:
            return sum(min(max(0, times - 1), self.unanswered[mid]) for mid, times in kept.items())


class SmtpServer:
    def __init__(self) -> None:
        self.mailbox = FaultyMailbox()
        self.port = free_port()  # chosen now, bound at start(): tests/integration/processes.py says why
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


class SmsGateway(FakeSmsGateway):
    """The tests' fake gateway, its "slow" answers past the provider's timeout."""

    def __init__(self) -> None:
        super().__init__(slow_seconds=TIMEOUT_SECONDS)

    def duplicates(
        self,
        phones: set[str],
        bodies_sent: dict[str, Counter[str]],
        in_doubt: Counter[tuple[str, str]] | None = None,
        template_of_text: dict[tuple[str, str], str] | None = None,
    ) -> Counter[tuple[str, str]]:
        """Messages to these numbers the gateway took more often than the outbox holds distinct messages with
        that text for that number (`bodies_sent`: per number, how many outbox messages carry each text): how
        many more, by (number, text).

        `in_doubt`: per (number, template), outbox messages whose last attempt may have reached the gateway
        but that were never settled (their workflow ended first), so their text is not recorded. Each may
        own one extra copy to that number of a text its template makes (`template_of_text`: the template of
        each (number, text) the outbox holds), or of a text no outbox message holds; never a copy of another
        template's message."""
        taken: dict[str, Counter[str]] = {}
        for message in self.messages:
            if message["to"] not in phones:
                continue
            taken.setdefault(str(message["to"]), Counter())[plain(str(message["body"]))] += 1
        extra = {
            (to, body): times - bodies_sent.get(to, Counter())[body]
            for to, bodies in taken.items()
            for body, times in bodies.items()
        }
        unexplained = Counter({taken_: n for taken_, n in extra.items() if n > 0})
        excused = Counter(in_doubt or {})
        templates = template_of_text or {}
        # Copies of a known template's text first, by messages of that template; then copies of texts the
        # outbox never recorded, by whichever messages in doubt to that number are left.
        ordered = sorted(unexplained, key=lambda copy: (copy not in templates, copy))
        for to, body in ordered:
            owners = (
                [(to, templates[(to, body)])]
                if (to, body) in templates
                else sorted(k for k in excused if k[0] == to)
            )
            for owner in owners:
                owned = min(unexplained[(to, body)], excused[owner])
                unexplained[(to, body)] -= owned
                excused[owner] -= owned
        return +unexplained


def plain(body: str) -> str:
    return re.sub(r"\s+", " ", body).strip()


def stack_settings(gateway_url: str, smtp_port: int, public_url: str) -> dict[str, str]:
    """The DVR_ settings (README "Connecting a real SMS gateway and SMTP server") pointing a stack at them."""
    return {
        "DVR_SMS_PROVIDER": "twilio",
        "DVR_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "DVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "DVR_TWILIO_FROM": SMS_FROM,
        "DVR_TWILIO_API_BASE": gateway_url,
        "DVR_PUBLIC_URL": public_url,
        "DVR_EMAIL_PROVIDER": "smtp",
        "DVR_SMTP_HOST": "127.0.0.1",
        "DVR_SMTP_PORT": str(smtp_port),
        "DVR_SMTP_STARTTLS": "false",
        "DVR_EMAIL_FROM": SENDER,
    }
