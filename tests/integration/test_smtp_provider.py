"""E-mail over SMTP against a real SMTP server in the test process (aiosmtpd on a loopback port); for
STARTTLS, one with a certificate from a throwaway CA made by the test (trustme)."""

import ssl
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.notifications import NotificationActivities
from activities.providers.base import MessageRejected, OutboundMessage, ProviderError
from activities.providers.by_channel import ByChannel
from activities.providers.from_settings import provider_from_settings
from activities.providers.smtp import SmtpProvider, message_id
from config.settings import Settings
from db.patients import change_contact, contact_for, register_patient
from db.seed import DEMO_SITE
from domain.notifications import Channel, NotificationRequest, Recipient
from domain.referral import Patient
from domain.stages import AttentionReason
from tests.integration.conftest import RecordingProvider
from tests.integration.outbox_workflow import MessagePatient
from tests.integration.processes import free_port

SENDER = "DVR Clinic <noreply@clinic.example>"
PATIENT_EMAIL = "ada@patients.example"
REFUSED = "nobody@patients.example"  # the server answers 550 for this mailbox
# Refusals that are not the address's doing: our relay's policy, and a mailbox that is full for now.
NOT_RELAYED = "someone@elsewhere.example"
FULL = "full@patients.example"
REFUSALS = {
    REFUSED: "550 5.1.1 mailbox unavailable",
    NOT_RELAYED: "550 5.7.1 relaying denied",
    FULL: "552 5.2.2 mailbox full",
}
USER, PASSWORD = "dvr-relay", "relay-secret-p4ss"
PHONE = "+16025550123"
STAFF = "care@clinic.example"
SERVER_IP = "127.0.0.1"
# The plain test server takes AUTH over plain text on loopback (it has no certificate); aiosmtpd warns.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Mailbox:
    """An SMTP server's handler: refuses one mailbox, keeps what it accepts, and notes the TLS version of the
    connection (None: plain text) each login and each message arrived over."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], Message]] = []
        self.refused: list[str] = []
        self.tls_at_login: list[str | None] = []
        self.tls_at_data: list[str | None] = []

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        self.tls_at_login.append(_tls_version(session))
        return _authenticate(server, session, envelope, mechanism, auth_data)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in REFUSALS:
            self.refused.append(address)
            return REFUSALS[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.tls_at_data.append(_tls_version(session))
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


def _tls_version(session: Session) -> str | None:
    # aiosmtpd fills `session.ssl` once the STARTTLS handshake has completed.
    if session.ssl is None:
        return None
    version: str = session.ssl["ssl_object"].version()
    return version


@contextmanager
def _serving(handler: Mailbox, **smtp_options: Any) -> Iterator[int]:
    """An SMTP server on a loopback port for as long as the block runs; yields the port."""
    controller = Controller(handler, hostname=SERVER_IP, port=free_port(), **smtp_options)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    # Authentication required, over plain text: this server has no certificate.
    with _serving(
        handler, authenticator=handler.authenticate, auth_required=True, auth_require_tls=False
    ) as port:
        yield handler, port


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _certified(ca: trustme.CA, name: str = SERVER_IP) -> ssl.SSLContext:
    """The server side of TLS, with a certificate from `ca` for `name`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(context)
    return context


def _ca_file(ca: trustme.CA, folder: Path) -> Path:
    path = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _tls_serving(handler: Mailbox, ca: trustme.CA, name: str = SERVER_IP) -> AbstractContextManager[int]:
    """A server with a certificate from `ca` for `name` that takes no mail and no login before STARTTLS, and
    mail only after a login."""
    return _serving(
        handler,
        tls_context=_certified(ca, name),
        require_starttls=True,
        authenticator=handler.authenticate,
        auth_required=True,
    )


@pytest.fixture
def tls_mailbox(ca: trustme.CA) -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    with _tls_serving(handler, ca) as port:
        yield handler, port


def _provider(port: int, *, password: str = PASSWORD) -> SmtpProvider:
    return SmtpProvider(
        host=SERVER_IP,
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
    assert refused.value.unreachable  # no such mailbox: the address itself is unusable
    assert handler.received == []


@pytest.mark.parametrize("address", [NOT_RELAYED, FULL], ids=["relaying denied", "mailbox full"])
async def test_a_refusal_that_is_not_the_address_s_doing_leaves_it_reachable(
    mailbox: tuple[Mailbox, int], address: str
) -> None:
    handler, port = mailbox
    with pytest.raises(MessageRejected) as refused:
        await _provider(port).send(_message(address))
    assert REFUSALS[address][:3] in str(refused.value)
    assert not refused.value.unreachable
    assert handler.refused == [address] and handler.received == []


async def test_a_server_that_is_down_is_retried() -> None:
    with pytest.raises(ProviderError) as failed:
        await _provider(free_port()).send(_message())
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


async def _patient(pool: asyncpg.Pool, *, email: str, phone: str | None) -> str:
    """A patient who prefers e-mail, and consented to SMS if they have a number."""
    patient = Patient(
        mrn=f"MRN-{uuid.uuid4().hex[:8]}",
        given_name="Ada",
        family_name="Example",
        birth_date="1970-01-01",
        phone=phone,
        email=email,
        preferred_channel="email",
        sms_consent=phone is not None,
    )
    return (await register_patient(pool, DEMO_SITE, patient)).patient_ref


async def _message_patient(
    temporal: Client, activities: NotificationActivities, patient_ref: str
) -> tuple[str, list[AttentionReason]]:
    """A diary prompt sent as a pathway sends it (its messenger, with the real retries): its outbox key, and
    the attention reasons the messenger raised."""
    pathway_id = f"pathway-s-{uuid.uuid4()}"
    request = NotificationRequest(
        key="diary-prompt:1",
        pathway_id=pathway_id,
        recipient=Recipient.PATIENT,
        patient_ref=patient_ref,
        template="diary_prompt",
    )
    queue = f"smtp-{uuid.uuid4()}"
    async with Worker(
        temporal,
        task_queue=queue,
        workflows=[MessagePatient],
        activities=[activities.send_notification, activities.record_undelivered],
    ):
        raised = await temporal.execute_workflow(MessagePatient.run, request, id=pathway_id, task_queue=queue)
    return f"{pathway_id}:diary-prompt:1", raised


async def _outbox(pool: asyncpg.Pool, key: str) -> tuple[str, str | None]:
    row = await pool.fetchrow("select status, channel from outbox where message_key = $1", key)
    assert row is not None
    return row["status"], row["channel"]


async def test_a_mailbox_refused_for_good_sends_the_message_by_sms_and_is_not_used_again(
    pool: asyncpg.Pool, temporal: Client, mailbox: tuple[Mailbox, int]
) -> None:
    handler, port = mailbox
    sms = RecordingProvider()
    activities = NotificationActivities(pool, ByChannel(email=_provider(port), sms=sms), STAFF)
    patient_ref = await _patient(pool, email=REFUSED, phone=PHONE)

    key, raised = await _message_patient(temporal, activities, patient_ref)
    # The same message, by SMS after the 550; staff are not asked to step in: the patient was reached.
    assert raised == [] and await _outbox(pool, key) == ("sent", "sms")
    assert [(m.key, m.channel, m.address) for m in sms.sent] == [(key, Channel.SMS, PHONE)]
    assert handler.refused == [REFUSED] and handler.received == []
    contact = await contact_for(pool, patient_ref)
    assert contact is not None and contact.email_refused and not contact.phone_refused

    # The next message goes by SMS at once: the refused address is not tried again.
    key, raised = await _message_patient(temporal, activities, patient_ref)
    assert raised == [] and await _outbox(pool, key) == ("sent", "sms")
    assert handler.refused == [REFUSED] and len(sms.sent) == 2

    # Staff correct the address (PATCH /v1/patients): e-mail is used again.
    await change_contact(pool, patient_ref, {"email": PATIENT_EMAIL})
    key, raised = await _message_patient(temporal, activities, patient_ref)
    assert raised == [] and await _outbox(pool, key) == ("sent", "email")
    assert [rcpt_tos for _, rcpt_tos, _ in handler.received] == [[PATIENT_EMAIL]] and len(sms.sent) == 2


async def test_a_patient_whose_only_address_is_refused_for_good_is_unreachable_at_once(
    pool: asyncpg.Pool, temporal: Client, mailbox: tuple[Mailbox, int]
) -> None:
    handler, port = mailbox
    sms = RecordingProvider()
    activities = NotificationActivities(pool, ByChannel(email=_provider(port), sms=sms), STAFF)
    patient_ref = await _patient(pool, email=REFUSED, phone=None)

    key, raised = await _message_patient(temporal, activities, patient_ref)
    # Not "message not delivered" after an hour of retries: no channel is left, so staff are told now.
    assert raised == [AttentionReason.PATIENT_UNREACHABLE]
    row = await pool.fetchrow("select status, attempts, last_error from outbox where message_key = $1", key)
    assert row is not None and (row["status"], row["attempts"]) == ("suppressed", 2)
    assert row["last_error"] == "no reachable channel"
    assert handler.refused == [REFUSED] and handler.received == [] and sms.sent == []


def _tls_provider(port: int, ca_file: Path | None) -> SmtpProvider:
    return SmtpProvider(
        host=SERVER_IP,
        port=port,
        sender=SENDER,
        username=USER,
        password=SecretStr(PASSWORD),
        starttls=True,
        ca_file=ca_file,
        timeout=5,
    )


async def test_with_starttls_the_login_and_the_message_go_over_tls_verified_against_the_ca_file(
    tls_mailbox: tuple[Mailbox, int], ca: trustme.CA, tmp_path: Path
) -> None:
    handler, port = tls_mailbox
    message = _message()
    provider_id = await _tls_provider(port, _ca_file(ca, tmp_path)).send(message)
    [(_, rcpt_tos, email)] = handler.received
    assert rcpt_tos == [PATIENT_EMAIL] and email["Message-ID"] == provider_id
    # The server saw the message, and the credentials before it, only on the upgraded connection.
    [version] = handler.tls_at_data
    assert version is not None and version.startswith("TLSv1.")
    assert handler.tls_at_login == [version]


async def test_the_worker_s_provider_trusts_the_ca_of_dvr_smtp_ca_file(
    tls_mailbox: tuple[Mailbox, int], ca: trustme.CA, tmp_path: Path
) -> None:
    handler, port = tls_mailbox
    settings = Settings(
        email_provider="smtp",
        smtp_host=SERVER_IP,
        smtp_port=port,
        smtp_username=USER,
        smtp_password=SecretStr(PASSWORD),
        smtp_starttls=True,
        smtp_ca_file=_ca_file(ca, tmp_path),
        email_from=SENDER,
        sms_provider="log",
    )
    async with httpx.AsyncClient() as http:
        provider = provider_from_settings(settings, http)
    assert isinstance(provider, ByChannel)
    await provider.for_channel(Channel.EMAIL).send(_message())
    assert len(handler.received) == 1 and handler.tls_at_data[0] is not None


@pytest.mark.parametrize(
    ("trusted", "name", "reason"),
    [
        ("another CA", SERVER_IP, "unable to get local issuer certificate"),
        ("the system's CAs", SERVER_IP, "unable to get local issuer certificate"),
        ("the server's CA", "smtp.clinic.example", "mismatch"),  # the certificate is for another name
    ],
)
async def test_a_server_certificate_that_fails_verification_is_refused_for_good_and_nothing_is_sent(
    ca: trustme.CA, tmp_path: Path, trusted: str, name: str, reason: str
) -> None:
    handler = Mailbox()
    ca_file = None  # the system's CAs
    if trusted != "the system's CAs":
        ca_file = _ca_file(trustme.CA() if trusted == "another CA" else ca, tmp_path)
    with _tls_serving(handler, ca, name) as port, pytest.raises(MessageRejected) as refused:
        await _tls_provider(port, ca_file).send(_message())
    # A configuration problem a retry would meet again; the handshake failed before any envelope.
    assert "certificate not trusted" in str(refused.value) and reason in str(refused.value)
    assert not refused.value.outcome_unknown and not refused.value.unreachable
    assert PATIENT_EMAIL not in str(refused.value) and PASSWORD not in str(refused.value)
    assert handler.tls_at_login == [] and handler.received == []


async def test_without_starttls_a_server_that_requires_it_refuses_the_message_and_nothing_is_sent(
    ca: trustme.CA,
) -> None:
    handler = Mailbox()
    # A relay that takes mail without a login, once upgraded: a client that upgraded would get it through.
    with _serving(handler, tls_context=_certified(ca), require_starttls=True) as port:
        provider = SmtpProvider(host=SERVER_IP, port=port, sender=SENDER, starttls=False, timeout=5)
        with pytest.raises(MessageRejected) as refused:
            await provider.send(_message())
    assert str(refused.value) == "smtp refused: STARTTLS or login required first (530)"
    assert handler.received == []
