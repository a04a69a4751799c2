"""`POST /v1/sms/inbound`: patients answer by text (real dev server, real activities, embedded PostgreSQL).

Every test's patient has a number of their own, so no test's texts reach another's pathway.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs
from temporalio.client import Client
from twilio.request_validator import RequestValidator

from api import inbound_sms
from api.app import create_app
from api.routes.sms_inbound import EMPTY_TWIML
from config.settings import Settings
from tests.integration.conftest import RecordingProvider
from tests.integration.polling import next_action_is, poll_view
from tests.integration.walk import record_steps_to_relief_check
from tests.referrals import referral_body

PUBLIC_URL = "https://dvr.clinic.example"
TOKEN = "inbound-auth-token"
PATH = "/v1/sms/inbound"
GATEWAY_NUMBER = "+16025550150"


@asynccontextmanager
async def gateway_to(
    pool: asyncpg.Pool, temporal: Client, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The SMS gateway's way to an API with these settings."""
    configured = Settings(
        profile="demo", public_url=PUBLIC_URL, twilio_auth_token=SecretStr(TOKEN), **settings
    )
    app = create_app(configured, pool=pool, temporal=temporal)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://internal"
    ) as client:
        yield client


@pytest.fixture
async def gateway(pool: asyncpg.Pool, temporal: Client, worker: None) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_to(pool, temporal, update_timeout_seconds=20) as client:
        yield client


def new_number() -> str:
    return f"+1602555{uuid.uuid4().int % 10_000:04d}"


def new_sid() -> str:
    return f"SM{uuid.uuid4().hex}"


async def text(
    gateway: httpx.AsyncClient, sender: str, body: str, sid: str | None = None, *, token: str = TOKEN
) -> httpx.Response:
    form = {"MessageSid": sid or new_sid(), "From": sender, "To": GATEWAY_NUMBER, "Body": body}
    signature = RequestValidator(token).compute_signature(PUBLIC_URL + PATH, form)
    return await gateway.post(PATH, data=form, headers={"X-Twilio-Signature": signature})


def outcomes_logged(logs: list[MutableMapping[str, Any]]) -> set[tuple[str, str]]:
    """(sid, outcome) of the webhook's lines, among those the worker's activities log meanwhile."""
    return {(line["message_sid"], line["outcome"]) for line in logs if line["event"] == "sms.inbound"}


def reply_of(response: httpx.Response) -> str | None:
    """The text the gateway is told to send back; None for none."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    if response.text == EMPTY_TWIML:
        return None
    prefix, suffix = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>', "</Message></Response>"
    assert response.text.startswith(prefix) and response.text.endswith(suffix), response.text
    return response.text.removeprefix(prefix).removesuffix(suffix)


async def refer(api: httpx.AsyncClient, phone: str, *, mrn: str | None = None, **patient: Any) -> str:
    """A referral for a patient with this number; the pathway id once it waits for the MRI review."""
    referral_id = f"REF-SMS-{uuid.uuid4().hex[:10]}"
    body = referral_body(referral_id)
    body["patient"] |= {"phone": phone, "mrn": mrn or f"MRN-{referral_id}", **patient}
    created = await api.post("/v1/referrals", json=body)
    assert created.status_code in (200, 201), created.text
    pathway_id: str = created.json()["pathway_id"]
    await poll_view(api, pathway_id, "mri review due", next_action_is("mri_review"))
    return pathway_id


async def at_relief_check(api: httpx.AsyncClient, phone: str) -> str:
    pathway_id = await refer(api, phone)
    await record_steps_to_relief_check(api, pathway_id)
    return pathway_id


async def view(api: httpx.AsyncClient, pathway_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/pathways/{pathway_id}")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


class _LateUpdates:
    """A Temporal client whose first Update is confirmed late: Temporal takes it (`taken`) or not yet, and its
    answer comes after the webhook stopped waiting. Everything else goes straight to the real client."""

    def __init__(self, client: Client, *, taken: bool) -> None:
        self._client, self.taken, self.late = client, taken, 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_workflow_handle_for(self, *args: Any, **kwargs: Any) -> Any:
        return _LateHandle(self._client.get_workflow_handle_for(*args, **kwargs), self)


class _LateHandle:
    def __init__(self, handle: Any, client: _LateUpdates) -> None:
        self._handle, self._client = handle, client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    async def execute_update(self, *args: Any, **kwargs: Any) -> Any:
        if self._client.late:
            self._client.late -= 1
            if self._client.taken:
                await self._handle.execute_update(*args, **kwargs)
            await asyncio.sleep(60)  # cancelled by the webhook's wait
        return await self._handle.execute_update(*args, **kwargs)


@asynccontextmanager
async def impatient_gateway(
    pool: asyncpg.Pool, temporal: Client, *, taken: bool
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway's way to an API that waits 3 s for Temporal to confirm a text's step, whose first Update
    is confirmed later than that."""
    late = cast(Client, _LateUpdates(temporal, taken=taken))  # stands in for the client the routes use
    async with gateway_to(pool, late, update_timeout_seconds=4, sms_inbound_wait_seconds=3) as client:
        yield client


def assert_try_again(response: httpx.Response) -> None:
    """Not a 200: a gateway never sends a webhook it got 200 for again; a 5xx it sends again if told to."""
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0


@pytest.mark.parametrize("taken", [True, False], ids=["taken-but-confirmed-late", "not-taken-in-time"])
async def test_a_score_not_confirmed_in_time_is_asked_again_and_counted_once(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client, taken: bool
) -> None:
    phone = new_number()
    pathway_id = await at_relief_check(api, phone)
    sid = new_sid()
    async with impatient_gateway(pool, temporal, taken=taken) as gateway:
        with capture_logs() as logs:
            assert_try_again(await text(gateway, phone, "4", sid))
        assert outcomes_logged(logs) == {(sid, "pending")}
        row = await pool.fetchrow("select received_at, outcome from sms_inbound where message_sid = $1", sid)
        assert row is not None and row["outcome"] is None  # received, not settled: a redelivery tries again
        # The gateway sends the same webhook again: the same Update id, so it attaches to the first one.
        assert reply_of(await text(gateway, phone, "4", sid)) == "Thanks, your pain score is recorded."
    reports = (await view(api, pathway_id))["relief_check"]["reports"]
    assert [r["pain"] for r in reports] == [4]
    assert reports[0]["at"].replace("Z", "+00:00") == row["received_at"].isoformat()
    settled = "select outcome from sms_inbound where message_sid = $1"
    assert await pool.fetchval(settled, sid) == "recorded"


async def test_an_r_not_confirmed_in_time_is_asked_again_and_counted_once(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client
) -> None:
    phone = new_number()
    pathway_id = await refer(api, phone)
    review = {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. R"}
    assert (await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=review)).status_code == 200
    await poll_view(api, pathway_id, "exam booked", next_action_is("exam"))
    sid = new_sid()
    async with impatient_gateway(pool, temporal, taken=True) as gateway:
        assert_try_again(await text(gateway, phone, "R", sid))
        assert reply_of(await text(gateway, phone, "R", sid)) == (
            "Thanks. The clinic will call you to find a new time; until then your appointment stands."
        )
    assert len((await view(api, pathway_id))["change_requests"]) == 1


@pytest.mark.parametrize("signature", [None, "other-token", "other-url"])
async def test_an_unsigned_text_is_forbidden_and_changes_nothing(
    api: httpx.AsyncClient, gateway: httpx.AsyncClient, pool: asyncpg.Pool, signature: str | None
) -> None:
    phone = new_number()
    pathway_id = await refer(api, phone)
    form = {"MessageSid": new_sid(), "From": phone, "To": GATEWAY_NUMBER, "Body": "STOP"}
    headers = {}
    if signature == "other-token":
        headers["X-Twilio-Signature"] = RequestValidator("not-the-token").compute_signature(
            PUBLIC_URL + PATH, form
        )
    elif signature == "other-url":
        headers["X-Twilio-Signature"] = RequestValidator(TOKEN).compute_signature(
            "https://evil.example" + PATH, form
        )
    response = await gateway.post(PATH, data=form, headers=headers)
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/not-signed-by-the-gateway"
    assert (
        await pool.fetchval("select count(*) from sms_inbound where message_sid = $1", form["MessageSid"])
        == 0
    )
    assert (await view(api, pathway_id))["contact"]["sms"] == "active"


async def test_a_score_answers_the_open_diary_prompt_once_even_when_redelivered(
    api: httpx.AsyncClient, gateway: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    phone = new_number()
    pathway_id = await at_relief_check(api, phone)
    # The gateway's spelling of the number differs from the referral's: both are read as E.164.
    spelt = f"+1 ({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
    sid = new_sid()
    with capture_logs() as logs:
        first = reply_of(await text(gateway, spelt, " 3 ", sid))
        again = reply_of(await text(gateway, spelt, " 3 ", sid))  # the webhook redelivered
    assert first == again == "Thanks, your pain score is recorded."
    reports = (await view(api, pathway_id))["relief_check"]["reports"]
    assert [r["pain"] for r in reports] == [3]
    received_at = await pool.fetchval("select received_at from sms_inbound where message_sid = $1", sid)
    assert reports[0]["at"].replace("Z", "+00:00") == received_at.isoformat()
    row = await pool.fetchrow("select patient_ref, outcome from sms_inbound where message_sid = $1", sid)
    assert row is not None
    assert (
        row["outcome"] == "recorded"
        and str(row["patient_ref"]) == (await view(api, pathway_id))["patient_ref"]
    )
    # The log names the sid and the outcome: not the number, not the text.
    assert phone not in str(logs) and spelt not in str(logs)
    assert outcomes_logged(logs) == {(sid, "recorded")}

    # Anything else while the prompt is open: one short help reply, then nothing until our next message.
    assert reply_of(await text(gateway, phone, "hello")) == (
        "Please reply with one number from 0 (no pain) to 10 (worst pain). Reply HELP for help."
    )
    latest = "select max(created_at) from outbox where pathway_id = $1 and recipient = 'patient'"
    before = await pool.fetchval(latest, pathway_id)
    repeated = reply_of(await text(gateway, phone, "hello?"))
    if await pool.fetchval(latest, pathway_id) == before:  # unless a prompt went out in between (demo pace)
        assert repeated is None
    assert reply_of(await text(gateway, phone, "7")) == "Thanks, your pain score is recorded."
    reports = (await view(api, pathway_id))["relief_check"]["reports"]
    assert sorted(r["pain"] for r in reports) == [3, 7]


NOTHING_OPEN = (  # with the demo clinic's phone
    "There is nothing to answer right now. Questions? Call the clinic at +16025550111"
    " or use the link in our message."
)


async def test_a_patient_with_nothing_open_gets_one_help_reply_and_an_unknown_number_none(
    api: httpx.AsyncClient, gateway: httpx.AsyncClient
) -> None:
    known = new_number()
    await refer(api, known)  # waiting for its MRI review: nothing for the patient to answer
    sid = new_sid()
    first = reply_of(await text(gateway, known, "hello", sid))
    assert first == NOTHING_OPEN
    assert reply_of(await text(gateway, known, "hello", sid)) == first  # redelivered: the same one reply
    for body in ("5", "R", "hello?"):  # one help reply per message we sent them, not one per text
        assert reply_of(await text(gateway, known, body)) is None
    # An unknown number gets nothing, whatever it texts: it learns nothing of who is on file.
    for body in ("hello", "5", "R"):
        assert reply_of(await text(gateway, new_number(), body)) is None
    # A number two patients share, with nothing open: whose text it is is not known, nor answered.
    shared = new_number()
    await asyncio.gather(refer(api, shared), refer(api, shared))
    assert reply_of(await text(gateway, shared, "hello")) is None
    for keyword in ("stop", "START"):  # answered alike to every number
        assert (await text(gateway, known, keyword)).content == (
            await text(gateway, new_number(), keyword)
        ).content
    # HELP names the number's clinic; any other number gets a help text too. The reply goes to the number's
    # own holder, so it tells nobody else whether the number is known.
    known_help, other_help = (
        reply_of(await text(gateway, known, "HELP")),
        reply_of(await text(gateway, new_number(), "HELP")),
    )
    assert known_help is not None and other_help is not None
    assert "+16025550111" in known_help  # the demo clinic's phone


async def test_a_score_the_diary_refuses_is_told_it_was_not_recorded(
    api: httpx.AsyncClient, gateway: httpx.AsyncClient, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = new_number()
    pathway_id = await at_relief_check(api, phone)

    async def refused(*_: object) -> bool:  # as the diary's validator does once it has ended
        return False

    monkeypatch.setattr(inbound_sms, "_into_diary", refused)
    sid = new_sid()
    answer = reply_of(await text(gateway, phone, "6", sid))
    assert answer == "That question has closed, so this score was not recorded. Reply HELP for help."
    assert reply_of(await text(gateway, phone, "6", sid)) == answer
    assert (
        await pool.fetchval("select outcome from sms_inbound where message_sid = $1", sid) == "not_recorded"
    )
    assert (await view(api, pathway_id))["relief_check"]["reports"] == []
    # R with no appointment to move (the block is behind it) is answered as any other text.
    assert reply_of(await text(gateway, phone, "R")) == (
        "Please reply with one number from 0 (no pain) to 10 (worst pain). Reply HELP for help."
    )


async def test_nul_in_a_text_is_never_stored(
    api: httpx.AsyncClient, gateway: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    phone = new_number()
    await refer(api, phone)
    # A sid no gateway makes (PostgreSQL takes no NUL: it was a 500): nothing is done with the text.
    assert reply_of(await text(gateway, phone, "hello", f"SM\x00{uuid.uuid4().hex}")) is None
    assert reply_of(await text(gateway, phone, "hello", "SM 1")) is None
    assert await pool.fetchval("select count(*) from sms_inbound where message_sid = 'SM 1'") == 0
    # In the number or the body: neither is stored; the text is read as any other.
    sid = new_sid()
    assert reply_of(await text(gateway, phone + "\x00", "hello\x00", sid)) == NOTHING_OPEN
    assert (
        await pool.fetchval("select outcome from sms_inbound where message_sid = $1", sid) == "nothing_open"
    )


async def test_help_names_the_clinic_and_its_phone(
    gateway: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    phone = new_number()
    await refer(api, phone)
    reply = reply_of(await text(gateway, phone, " info "))
    assert reply is not None and reply.startswith("Phoenix Spine &amp; Joint (demo): call +16025550111.")


async def test_stop_sends_by_email_until_start_and_a_new_referral_keeps_it(
    api: httpx.AsyncClient, gateway: httpx.AsyncClient, provider: RecordingProvider, pool: asyncpg.Pool
) -> None:
    phone = new_number()
    pathway_id = await refer(api, phone)
    mrn = await pool.fetchval("select mrn from patients where phone = $1", phone)
    assert reply_of(await text(gateway, phone, " Stop")) == (
        "You will get no more texts from us. Reply START to resume."
        " / No recibira mas mensajes. Responda START para reanudar."
    )
    assert (await view(api, pathway_id))["contact"]["sms"] == "opted_out"
    opted = await pool.fetchrow("select opted_out_at, source from sms_opt_outs where phone_e164 = $1", phone)
    assert opted is not None
    assert opted["source"] == "sms_reply" and opted["opted_out_at"] is not None

    # The next message to the patient (the exam booked) goes by e-mail.
    review = {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. R"}
    assert (await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=review)).status_code == 200
    await poll_view(api, pathway_id, "exam booked", next_action_is("exam"))
    sent = await _patient_messages(provider, pathway_id)
    assert sent and {m.channel for m in sent} == {"email"}

    # A new referral of the same patient (same MRN) does not turn SMS back on.
    second = await refer(api, phone, mrn=mrn)
    assert second != pathway_id
    assert (await view(api, second))["contact"]["sms"] == "opted_out"

    assert reply_of(await text(gateway, phone, "unstop")) == (
        "You will get our texts again. Reply STOP to stop."
        " / Volvera a recibir mensajes. Responda STOP para parar."
    )
    assert (await view(api, pathway_id))["contact"]["sms"] == "active"
    assert (await view(api, second))["contact"]["sms"] == "active"


async def test_stop_without_an_email_address_flags_the_patient_unreachable(
    api: httpx.AsyncClient, gateway: httpx.AsyncClient
) -> None:
    phone = new_number()
    pathway_id = await refer(api, phone, email=None)
    assert reply_of(await text(gateway, phone, "QUIT")) is not None
    review = {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. R"}
    assert (await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=review)).status_code == 200
    flagged = await poll_view(
        api, pathway_id, "patient unreachable", lambda v: "patient_unreachable" in v["attention_reasons"]
    )
    assert flagged["needs_attention"] and flagged["contact"]["sms"] == "opted_out"


async def test_a_number_shared_by_patients_with_open_prompts_is_asked_to_use_the_link(
    api: httpx.AsyncClient, gateway: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    phone = new_number()
    first, second = await asyncio.gather(at_relief_check(api, phone), at_relief_check(api, phone))
    sid = new_sid()
    assert reply_of(await text(gateway, phone, "3", sid)) == (
        "Please answer with the link in your own message from us, so it reaches the right person."
    )
    for pathway_id in (first, second):
        assert (await view(api, pathway_id))["relief_check"]["reports"] == []
    row = await pool.fetchrow("select patient_ref, outcome from sms_inbound where message_sid = $1", sid)
    assert row is not None and (row["patient_ref"], row["outcome"]) == (None, "use_link")


async def _patient_messages(provider: RecordingProvider, pathway_id: str) -> list[Any]:
    for _ in range(100):
        sent = [m for m in provider.sent if m.key.startswith(f"{pathway_id}:")]
        if sent:
            return sent
        await asyncio.sleep(0.1)
    return []


async def test_r_asks_staff_to_move_the_next_appointment_once(
    api: httpx.AsyncClient, gateway: httpx.AsyncClient
) -> None:
    phone = new_number()
    pathway_id = await refer(api, phone)
    review = {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. R"}
    assert (await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=review)).status_code == 200
    booked = await poll_view(api, pathway_id, "exam booked", next_action_is("exam"))
    [exam] = booked["appointments"]

    sid = new_sid()
    first = reply_of(await text(gateway, phone, " r ", sid))
    assert first == "Thanks. The clinic will call you to find a new time; until then your appointment stands."
    assert reply_of(await text(gateway, phone, "R", sid)) == first  # a redelivery: the same answer
    after = await view(api, pathway_id)
    assert after["attention_reasons"] == ["reschedule_requested"]
    assert [(r["appointment_id"], r["wish"], r["via"]) for r in after["change_requests"]] == [
        (exam["appointment_id"], "reschedule", "sms")
    ]
    assert after["appointments"][0]["status"] == "booked"
