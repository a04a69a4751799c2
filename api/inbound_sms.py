"""A patient's text message, as the SMS gateway delivers it: read, matched to the patient and their open
prompt, acted on, and answered with at most one short reply (the route sends it back as TwiML).

Matching: the sender's number, normalised to E.164, names the patients who have it; their running pathways
say what is open. A pain score (0-10) answers an open diary prompt: it goes to the relief check as the pain
report Update, recorded at the text's first arrival and with an Update id made from the gateway's
`MessageSid`, so a redelivered webhook records it once. At the follow-up or an outcome check-in the patient
is pointed to the link in our message. Anything else gets one help reply per message we sent them: with
nothing open, that there is nothing to answer now, and the clinic's phone.

A step Temporal does not confirm within `wait` leaves the text unsettled and raises NotConfirmed: the route
answers 503, so that the gateway sends the webhook again, and the redelivery's Update (the same id) attaches
to the one sent now, so the score still counts once.

What nobody learns from the answer: whether someone else's number is known. An unknown number gets an empty
answer; STOP and START are answered alike to every number. HELP names the clinic of the number's patients, or
the deployment's only clinic, else gives a general text; a known patient with nothing open is told so. Those
replies go only to the number's own holder, so they tell nobody else whether the number is known. Two
patients with open prompts on one number are never guessed between: both are asked to use their own link,
and nothing is recorded; two with nothing open are not answered (whose text it is is not known).

An opt-out (STOP) belongs to the number (db/sms_numbers.py); a number that opted out still has its diary
answers recorded when it texts them, but is sent no conversational reply.
"""

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg
import structlog
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api import sms_reply_texts as texts
from api.read_copy import read_view
from db import audit, sms_inbound, sms_numbers
from db.sms_numbers import NumberHolder
from domain.check_ins import CheckInStatus
from domain.identifiers import relief_check_id
from domain.open_question import changeable_appointment
from domain.phones import e164
from domain.results import AppointmentChangeRequest, PainReport
from domain.sms_keywords import Keyword, PainScore, read_reply
from domain.stages import PathwayStatus, Stage
from domain.view import PathwayView
from workflows.handles import pathway_workflow, relief_check_workflow
from workflows.pathway import PatientPathwayWorkflow
from workflows.relief_check import ReliefCheckWorkflow

log = structlog.get_logger()

ACTOR = "patient:sms"
"""Who the audit says took a step answered by text."""

Outcome = Literal[
    "recorded",  # a pain score went into the diary
    "not_recorded",  # the diary refused it (ended meanwhile, another score at that instant)
    "nothing_open",  # a known patient, alone on the number, with nothing to answer (or to move, for R)
    "score_please",  # something other than a score while a diary prompt is open
    "answer_with_link",  # a text while the follow-up or an outcome check-in is open
    "use_link",  # a number shared by patients with open prompts (or appointments, for R)
    "reschedule_requested",  # R: staff were asked to move the patient's next appointment
    "stopped",
    "started",
    "help",
    "ignored",  # unknown or shared number with nothing open, or a help reply already given
]


class NotConfirmed(Exception):
    """Temporal did not confirm the text's step in time: the text is received but not settled, and the
    gateway must send it again (a 200 would tell it the text was handled, and it never would)."""


@dataclass(frozen=True)
class OpenPrompt:
    patient_ref: str
    pathway_id: str
    diary_id: str | None
    """The relief check taking pain reports; None for a check-in (follow-up, outcomes)."""


@dataclass(frozen=True)
class InboundText:
    message_sid: str
    sender: str
    body: str
    arrived_at: datetime


async def answer_text(text: InboundText, *, pool: asyncpg.Pool, temporal: Client, wait: float) -> str | None:
    """Acts on the text once (a redelivery is answered from the first delivery's outcome); returns the reply
    to send, or None for none. NotConfirmed when Temporal did not confirm its step within `wait` seconds."""
    number = e164(text.sender)
    received = await sms_inbound.receive(pool, text.message_sid, text.arrived_at)
    holders = await sms_numbers.holders_of(pool, number) if number else []
    outcome: Outcome | None = received.outcome  # type: ignore[assignment]  # written by this module only
    patient_ref = None
    if outcome is None:
        try:
            # The whole handling is bounded (the views read as well as the Update), within the gateway's
            # own timeout, so that the 503 reaches it and it sends the text again.
            async with asyncio.timeout(wait):
                outcome, patient_ref = await _handle(
                    text, received.received_at, number, holders, pool, temporal
                )
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
            log.info("sms.inbound", message_sid=text.message_sid, outcome="pending")
            raise NotConfirmed from err
        await sms_inbound.settle(pool, text.message_sid, outcome, patient_ref)
        log.info("sms.inbound", message_sid=text.message_sid, outcome=outcome)
    else:
        log.info("sms.inbound", message_sid=text.message_sid, outcome=outcome, redelivered=True)
    return await _reply(pool, outcome, number, holders)


async def _handle(
    text: InboundText,
    received_at: datetime,
    number: str | None,
    holders: list[NumberHolder],
    pool: asyncpg.Pool,
    temporal: Client,
) -> tuple[Outcome, str | None]:
    reply = read_reply(text.body)
    refs = [h.patient_ref for h in holders]
    if reply == Keyword.RESCHEDULE:
        asked = await _reschedule(text, refs, pool, temporal)
        if asked is not None:
            return asked  # else nothing to move: answered as any other text
    elif isinstance(reply, Keyword):
        if reply != Keyword.HELP and number is not None:
            async with pool.acquire() as conn, conn.transaction():
                if reply == Keyword.STOP:
                    await sms_numbers.opt_out(conn, number, received_at)
                else:
                    await sms_numbers.opt_in(conn, number)
                for ref in refs:
                    action = "patient.sms.opted_out" if reply == Keyword.STOP else "patient.sms.opted_in"
                    detail = {"source": "sms_reply", "message_sid": text.message_sid}
                    await audit.record(conn, actor=ACTOR, action=action, patient_ref=ref, detail=detail)
        answered: dict[Keyword, Outcome] = {
            Keyword.STOP: "stopped",
            Keyword.START: "started",
            Keyword.HELP: "help",
        }
        return answered[reply], None
    if not holders:
        return "ignored", None
    prompts = await _open_prompts(pool, temporal, refs)
    if not prompts:
        return await _nothing_open(pool, holders, text.message_sid)
    if len(prompts) > 1:  # never guessed between: each patient answers on their own link
        owners = {p.patient_ref for p in prompts}
        return "use_link", owners.pop() if len(owners) == 1 else None
    (prompt,) = prompts
    if isinstance(reply, PainScore) and prompt.diary_id is not None:
        report = PainReport(pain=reply.pain, recorded_at=received_at)
        recorded = await _into_diary(temporal, prompt.diary_id, report, text.message_sid)
        if recorded:
            await audit.record(
                pool,
                actor=ACTOR,
                action="pain_report.write",
                patient_ref=prompt.patient_ref,
                pathway_id=prompt.pathway_id,
                detail={"message_sid": text.message_sid},
            )
        return ("recorded" if recorded else "not_recorded"), prompt.patient_ref
    if await sms_inbound.helped_since_last_message(pool, prompt.patient_ref, text.message_sid):
        return "ignored", prompt.patient_ref
    return ("score_please" if prompt.diary_id else "answer_with_link"), prompt.patient_ref


async def _nothing_open(
    pool: asyncpg.Pool, holders: list[NumberHolder], message_sid: str
) -> tuple[Outcome, str | None]:
    """A known number with nothing to answer: its patient is told so, once per message we sent them (so an
    auto-responder is not answered in a loop). A number several patients share gets nothing: whose text it
    is is not known, and that once is counted per patient."""
    if len(holders) != 1:
        return "ignored", None
    patient_ref = holders[0].patient_ref
    if await sms_inbound.helped_since_last_message(pool, patient_ref, message_sid):
        return "ignored", patient_ref
    return "nothing_open", patient_ref


async def _reschedule(
    text: InboundText, refs: list[str], pool: asyncpg.Pool, temporal: Client
) -> tuple[Outcome, str | None] | None:
    """R: staff are asked to move the patient's next booked appointment (the appointment stays until they
    act); two patients on the number: their links. None when there is nothing to move (or no patient)."""
    upcoming = await _next_appointments(temporal, pool, refs, text.arrived_at)
    if not upcoming:
        return None
    if len({patient_ref for patient_ref, _, _ in upcoming}) > 1:
        return "use_link", None
    patient_ref, pathway_id, appointment_id = upcoming[0]
    request = AppointmentChangeRequest(appointment_id=appointment_id, wish="reschedule", via="sms")
    handle = pathway_workflow(temporal, pathway_id)
    try:
        # Assigned: mypy reads the Update of a mixed-in async handler as returning its coroutine.
        _ = await handle.execute_update(
            PatientPathwayWorkflow.request_appointment_change, request, id=f"sms:{text.message_sid}"
        )
    except WorkflowUpdateFailedError:  # already asked for, or no longer to come: staff know of it already
        return "reschedule_requested", patient_ref
    await audit.record(
        pool,
        actor=ACTOR,
        action="appointment.change_request",
        patient_ref=patient_ref,
        pathway_id=pathway_id,
        detail={"message_sid": text.message_sid},
    )
    return "reschedule_requested", patient_ref


async def _next_appointments(
    temporal: Client, pool: asyncpg.Pool, patient_refs: list[str], now: datetime
) -> list[tuple[str, str, str]]:
    """(patient, pathway, appointment) of each patient's appointment they may ask to move
    (domain.open_question.changeable_appointment), the soonest when they have several pathways."""
    soonest: dict[str, tuple[datetime, str, str]] = {}
    for patient_ref, view in await _pathway_views(pool, temporal, patient_refs):
        appointment = changeable_appointment(view, now)
        known = soonest.get(patient_ref)
        if appointment is not None and (known is None or appointment.starts_at < known[0]):
            soonest[patient_ref] = (appointment.starts_at, view.pathway_id, appointment.appointment_id)
    return [(ref, pathway_id, appointment_id) for ref, (_, pathway_id, appointment_id) in soonest.items()]


async def _into_diary(temporal: Client, diary_id: str, report: PainReport, message_sid: str) -> bool:
    """Whether the relief check took the report; the Update id is the gateway's, so it is taken once."""
    diary = relief_check_workflow(temporal, diary_id)
    try:
        await diary.execute_update(ReliefCheckWorkflow.record_pain_report, report, id=f"sms:{message_sid}")
    except WorkflowUpdateFailedError:  # refused by its validator: the diary ended, or another score then
        return False
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return False  # the relief check has just ended
    return True


async def _open_prompts(pool: asyncpg.Pool, temporal: Client, patient_refs: list[str]) -> list[OpenPrompt]:
    """What is waiting for an answer from these patients, over all their running pathways."""
    views = await _pathway_views(pool, temporal, patient_refs)
    return [prompt for ref, view in views if (prompt := open_prompt(view, ref)) is not None]


async def _pathway_views(
    pool: asyncpg.Pool, temporal: Client, patient_refs: list[str]
) -> list[tuple[str, PathwayView]]:
    """(patient, view) of each of these patients' pathways that Temporal has, read as the API reads a view
    (api/read_copy.py: from the pathway's read copy while its history has not moved on)."""
    views: list[tuple[str, PathwayView]] = []
    for patient_ref, pathway_id in await sms_numbers.pathways_of(pool, patient_refs):
        try:
            views.append((patient_ref, await read_view(temporal, pool, pathway_id)))
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise  # else not started yet, or gone from Temporal's retention
    return views


def open_prompt(view: PathwayView, patient_ref: str) -> OpenPrompt | None:
    """What the pathway waits for the patient to answer: its diary while the relief check takes reports, or
    the follow-up or an outcome check-in while open; None when nothing."""
    if view.status != PathwayStatus.ACTIVE:
        return None
    if view.stage == Stage.RELIEF_CHECK and view.relief_check.result is None:
        diary_id = relief_check_id(view.pathway_id, view.relief_check.block_number)
        return OpenPrompt(patient_ref, view.pathway_id, diary_id)
    check_ins = [view.follow_up.status] if view.stage == Stage.FOLLOW_UP else []
    check_ins += [o.status for o in view.outcomes] if view.stage == Stage.OUTCOMES else []
    if CheckInStatus.OPEN in check_ins:
        return OpenPrompt(patient_ref, view.pathway_id, None)
    return None


async def _reply(
    pool: asyncpg.Pool, outcome: Outcome, number: str | None, holders: list[NumberHolder]
) -> str | None:
    if outcome in ("stopped", "started"):
        return texts.keyword_answer(outcome)
    if outcome == "help":
        return await _help(pool, holders)
    if outcome not in texts.CONVERSATION or not holders:
        return None
    if number is not None and await sms_numbers.opted_out(pool, number):
        return None  # they asked for no texts: what they send is still taken, but not answered
    languages = {h.preferred_language for h in holders}
    language = languages.pop() if len(languages) == 1 else "en"
    if outcome == "nothing_open":  # settled only for a number one patient holds
        phone = holders[0].clinic_phone
        if phone is None:
            return texts.answer("nothing_open_no_phone", language)
        return texts.answer(outcome, language, clinic_phone=phone)
    return texts.answer(outcome, language)


async def _help(pool: asyncpg.Pool, holders: list[NumberHolder]) -> str:
    """The clinic's contact: the number's patients' clinic, else the deployment's only clinic, else none."""
    clinics = {(h.clinic, h.clinic_phone) for h in holders}
    if len(clinics) != 1:
        sole = await sms_numbers.sole_clinic(pool)
        clinics = {sole} if sole is not None and not holders else set()
    if not clinics:
        return texts.keyword_answer("help_generic")
    ((clinic, phone),) = clinics
    if phone is None:
        return texts.keyword_answer("help_no_phone", clinic=clinic)
    return texts.keyword_answer("help", clinic=clinic, clinic_phone=phone)
