"""E-mail over SMTP against a real SMTP server in the test process (aiosmtpd on a loopback port)."""

import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from activities.notifications import NotificationActivities
from activities.providers.base import MessageRejected, OutboundMessage, ProviderError
from activities.providers.smtp import SmtpProvider, message_id
from domain.notifications import Channel, NotificationRequest, Recipient

SENDER = "DVR Clinic <noreply@clinic.example>"
PATIENT_EMAIL = "ada@patients.example"
REFUSED = "nobody@patients.example"  # the server answers 550 for this mailbox
USER, PASSWORD = "dvr-relay", "relay-secret-p4ss"
# The test server takes AUTH over plain text on loopback (it has no certificate); aiosmtpd warns about that.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Mailbox:
    """An SMTP server's handler: refuses one mailbox, keeps what it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], Message]] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.received.append(
            (str(envelope.mail_from), list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 Message accepted for delivery"


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # False: the server answers 535 itself


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    # Authentication required, over plain text: a loopback test server has no certificate.
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=_authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def _provider(port: int, *, password: str = PASSWORD) -> SmtpProvider:
    return SmtpProvider(
        host="127.0.0.1",
        port=port,
        sender=SENDER,
        username=USER,
        password=SecretStr(password),
        starttls=False,
        timeout=5,
    )


def _message(address: str = PATIENT_EMAIL) -> OutboundMessage:
    return OutboundMessage(
        key=f"pathway-s:{uuid.uuid4()}",
        channel=Channel.EMAIL,
        address=address,
        subject="Your appointment",
        body="Hello Ada,\nyour exam is on Monday at 9:00.\n",
    )


async def test_a_message_is_delivered_with_its_headers_and_a_message_id_from_its_key(
    mailbox: tuple[Mailbox, int],
) -> None:
    handler, port = mailbox
    message = _message()
    provider_id = await _provider(port).send(message)
    [(mail_from, rcpt_tos, email)] = handler.received
    assert (mail_from, rcpt_tos) == ("noreply@clinic.example", [PATIENT_EMAIL])
    assert (email["From"], email["To"], email["Subject"]) == (SENDER, PATIENT_EMAIL, "Your appointment")
    payload = email.get_payload(decode=True)
    assert isinstance(payload, bytes) and payload.replace(b"\r\n", b"\n") == message.body.encode()
    assert email["Message-ID"] == provider_id == message_id(message.key, SENDER)
    assert provider_id.endswith("@clinic.example>") and message.key not in provider_id


async def test_a_resend_carries_the_same_message_id(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    message = _message()
    provider = _provider(port)
    await provider.send(message)
    await provider.send(message)
    assert len({email["Message-ID"] for _, _, email in handler.received}) == 1
    assert await provider.find_sent(message, since=datetime.now(UTC)) is None


async def test_wrong_credentials_are_refused_for_good_without_the_password_in_the_error(
    mailbox: tuple[Mailbox, int],
) -> None:
    handler, port = mailbox
    wrong = "not-the-relay-password"
    with pytest.raises(MessageRejected) as refused:
        await _provider(port, password=wrong).send(_message())
    assert "535" in str(refused.value) and wrong not in str(refused.value)
    assert wrong not in repr(_provider(port, password=wrong))
    assert handler.received == []


async def test_a_refused_recipient_is_a_refusal_for_good_that_names_no_address(
    mailbox: tuple[Mailbox, int],
) -> None:
    handler, port = mailbox
    with pytest.raises(MessageRejected) as refused:
        await _provider(port).send(_message(REFUSED))
    assert "550" in str(refused.value) and REFUSED not in str(refused.value)
    assert not refused.value.unreachable
    assert handler.received == []


async def test_a_server_that_is_down_is_retried() -> None:
    with pytest.raises(ProviderError) as failed:
        await _provider(_free_port()).send(_message())
    assert not isinstance(failed.value, MessageRejected)
    assert not failed.value.outcome_unknown  # the connection was refused: nothing reached a server


async def test_the_activity_reports_a_refused_recipient_and_does_not_retry_it(
    pool: asyncpg.Pool, mailbox: tuple[Mailbox, int]
) -> None:
    handler, port = mailbox
    activities = NotificationActivities(pool, _provider(port), staff_address=REFUSED)
    request = NotificationRequest(
        key=f"pathway-s:{uuid.uuid4()}",
        pathway_id="pathway-s",
        recipient=Recipient.STAFF,
        patient_ref=None,
        template="staff_attention",
        params={"pathway_id": "pathway-s", "reason": "test"},
    )
    with pytest.raises(ApplicationError) as refused:
        await activities.send_notification(request)
    assert refused.value.type == "MessageRejected" and refused.value.non_retryable
    assert REFUSED not in str(refused.value)
    row = await pool.fetchrow("select status, last_error from outbox where message_key = $1", request.key)
    assert row is not None and row["status"] == "failed" and "550" in row["last_error"]
    assert handler.received == []


async def test_the_activity_sends_a_staff_message_through_smtp(
    pool: asyncpg.Pool, mailbox: tuple[Mailbox, int]
) -> None:
    handler, port = mailbox
    activities = NotificationActivities(pool, _provider(port), staff_address="care@clinic.example")
    request = NotificationRequest(
        key=f"pathway-s:{uuid.uuid4()}",
        pathway_id="pathway-s",
        recipient=Recipient.STAFF,
        patient_ref=None,
        template="staff_attention",
        params={"pathway_id": "pathway-s", "reason": "test"},
    )
    await activities.send_notification(request)
    [(_, rcpt_tos, email)] = handler.received
    assert rcpt_tos == ["care@clinic.example"]
    provider_id = await pool.fetchval(
        "select provider_message_id from outbox where message_key = $1", request.key
    )
    assert provider_id == email["Message-ID"] == message_id(request.key, SENDER)
