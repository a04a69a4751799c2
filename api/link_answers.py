"""A patient's answer from the link page: the form read into the step the open question takes, and that step
sent as the Update staff would send (api/routes/steps.py and check_ins.py): a pain report to the relief check,
the follow-up to the pathway, an outcome check-in to the outcome check-ins with `recorded_by` "patient link".

A wish to move or cancel the next appointment (the page's other form) is sent the same way, as the pathway's
`request_appointment_change` Update with `via` "link".

The Update's id is the form's answer id, so a form sent twice (a double tap, a retry after a timeout)
attaches to the first Update instead of recording again; `sent_once` says how the sending went, and
`recorded_once` marks what was taken and audits it, once.
"""

import asyncio
import hashlib
import re
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, cast, get_args
from urllib.parse import parse_qs

from pydantic import ValidationError
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.outages import TEMPORAL_OUTAGES
from config.settings import Settings
from db import audit
from db.patient_links import Link, answer_recorded
from db.pool import Queryable
from domain.check_ins import WorkStatus
from domain.identifiers import outcome_check_ins_id, relief_check_id
from domain.open_question import FORM_KEY, OpenQuestion, QuestionKind
from domain.results import AppointmentChangeRequest, FollowUpAnswer, OutcomeAnswer, PainReport, RedFlag
from workflows.handles import check_ins_workflow, pathway_workflow, relief_check_workflow
from workflows.outcome_check_ins import OutcomeCheckInsWorkflow as CheckIns
from workflows.pathway import PatientPathwayWorkflow as Pathway
from workflows.relief_check import ReliefCheckWorkflow

RECORDED_BY = "patient link"
"""Who an outcome check-in's answers were recorded by, when the patient gave them on the page."""

_SMALL_NUMBER = re.compile(r"^\d{1,2}\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # in no value the page renders; PostgreSQL stores no NUL
_BACK_AT_WORK = {"yes": True, "no": False, "not_applicable": None}
_RED_FLAGS = frozenset(get_args(RedFlag))
_WORK_STATUSES = frozenset(get_args(WorkStatus))
_WISHES = frozenset({"reschedule", "cancel"})

Answer = PainReport | FollowUpAnswer | OutcomeAnswer


@dataclass(frozen=True)
class Form:
    """The fields every answer form carries: which form it is, and which question it answers."""

    answer_id: uuid.UUID
    question: str
    fields: dict[str, list[str]]


class FormError(Exception):
    """The form is not one the page rendered, or lacks an answer the question needs."""


def read_form(body: bytes) -> Form:
    """The form as sent; FormError for a body that is not one the page rendered (no answer id, a key of
    other characters, a control character in any value)."""
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=50, strict_parsing=False)
        answer_id = uuid.UUID(_one(fields, "answer_id"))
    except (UnicodeDecodeError, ValueError) as err:
        raise FormError("not an answer form") from err
    question = _one(fields, "question")
    if not FORM_KEY.fullmatch(question):
        raise FormError("not a key the page renders")
    if any(_CONTROL.search(value) for values in fields.values() for value in values):
        raise FormError("a control character")
    return Form(answer_id, question, fields)


def _one(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name, [])
    if len(values) != 1:
        raise FormError(f"{name} is missing")
    return values[0]


def _number(fields: dict[str, list[str]], name: str) -> int:
    value = _one(fields, name)
    if not _SMALL_NUMBER.match(value):
        raise FormError(f"{name} is not a number")
    return int(value)


def answer_for(question: OpenQuestion, form: Form, received_at: datetime) -> Answer:
    """The step the form's answers make for `question`; FormError when one is missing or out of range. A
    diary answer counts at `received_at`, when the patient sent it, not when a busy or restarted worker takes
    it: the relief rule reads the diary's times (an answer stamped late can miss the onset window)."""
    fields = form.fields
    flags = fields.get("red_flags", [])
    if not _RED_FLAGS.issuperset(flags):
        raise FormError("unknown red flag")
    try:
        if question.kind == QuestionKind.DIARY:
            return PainReport(pain=_number(fields, "pain"), recorded_at=received_at)
        if question.kind == QuestionKind.FOLLOW_UP:
            back = fields.get("returned_to_work", ["not_applicable"])
            if len(back) != 1 or back[0] not in _BACK_AT_WORK:
                raise FormError("returned_to_work is not a choice")
            return FollowUpAnswer(
                pain=_number(fields, "pain"),
                returned_to_work=_BACK_AT_WORK[back[0]],
                red_flags=sorted(set(flags)),  # each checked against RedFlag above
            )
        assert question.check_in is not None
        work_status = _one(fields, "work_status")
        if work_status not in _WORK_STATUSES:
            raise FormError("work_status is not a choice")
        return OutcomeAnswer(
            check_in=question.check_in,
            pain=_number(fields, "pain"),
            work_status=work_status,  # checked against WorkStatus above
            pgic=_number(fields, "pgic"),
            red_flags=sorted(set(flags)),
            recorded_by=RECORDED_BY,
        )
    except ValidationError as err:
        raise FormError("an answer is out of range") from err


def change_for(appointment_id: str, form: Form) -> AppointmentChangeRequest:
    """The wish the change form's button sent (reschedule or cancel); FormError for any other."""
    wish = _one(form.fields, "wish")
    if wish not in _WISHES:
        raise FormError("wish is not a choice")
    return AppointmentChangeRequest(appointment_id=appointment_id, wish=wish, via="link")


def target_workflow(pathway_id: str, question: OpenQuestion) -> str:
    """The workflow that takes the question's answer."""
    if question.kind == QuestionKind.DIARY:
        assert question.block_number is not None
        return relief_check_id(pathway_id, question.block_number)
    if question.kind == QuestionKind.OUTCOME:
        return outcome_check_ins_id(pathway_id)
    return pathway_id


def update_id(answer_id: uuid.UUID) -> str:
    return f"patient-link-{answer_id}"


def send(temporal: Client, workflow_id: str, answer: Answer, answer_id: uuid.UUID) -> Awaitable[object]:
    """Sends the answer as its Update to `workflow_id`, and waits for the workflow to take it."""
    id = update_id(answer_id)
    if isinstance(answer, PainReport):
        diary = relief_check_workflow(temporal, workflow_id)
        return diary.execute_update(ReliefCheckWorkflow.record_pain_report, answer, id=id)
    if isinstance(answer, FollowUpAnswer):
        pathway = pathway_workflow(temporal, workflow_id)
        return pathway.execute_update(Pathway.record_follow_up, answer, id=id)
    check_ins = check_ins_workflow(temporal, workflow_id)
    return check_ins.execute_update(CheckIns.record_outcome_check_in, answer, id=id)


def send_change(
    temporal: Client, pathway_id: str, request: AppointmentChangeRequest, answer_id: uuid.UUID
) -> Awaitable[object]:
    """Sends the wish to the pathway, and waits for it to take it (its validator refuses a second one)."""
    pathway = pathway_workflow(temporal, pathway_id)
    return pathway.execute_update(Pathway.request_appointment_change, request, id=update_id(answer_id))


def content_of(answer: Answer) -> str:
    """A hash of what the answers say, not of when they were sent: the same form sent again with other
    answers has another (db/patient_links.py keeps the first's)."""
    said = answer.model_dump_json(exclude={"recorded_at"})
    return hashlib.sha256(said.encode()).hexdigest()


def reported_red_flags(form: Form) -> list[RedFlag]:
    """The red flags the form reports, each one the page offers (any other value is dropped): read even
    from a form whose answer cannot be recorded, as they are urgent all the same."""
    known = {flag for flag in form.fields.get("red_flags", []) if flag in _RED_FLAGS}
    return [cast(RedFlag, flag) for flag in sorted(known)]  # each one of RedFlag's values, checked above


def action_of(answer: Answer) -> str:
    """The audit action of the answer, as the staff routes name it."""
    if isinstance(answer, PainReport):
        return "pain_report.write"
    if isinstance(answer, FollowUpAnswer):
        return "follow_up.write"
    return "outcome_check_in.write"


class Sent(Enum):
    TAKEN = "taken"
    REFUSED = "refused"  # the workflow's validator refused it
    ENDED = "ended"  # the workflow that would take it has ended
    BUSY = "busy"  # Temporal cannot answer now: the claim stays, so sending the form again attaches to it


async def sent_once(settings: Settings, update: Awaitable[object]) -> Sent:
    """Sends one of the page's Updates (its id derives from the form's answer id) and says how it went."""
    try:
        await asyncio.wait_for(update, timeout=settings.update_timeout_seconds)
    except WorkflowUpdateFailedError:
        return Sent.REFUSED
    except RPCError as err:
        if err.status in TEMPORAL_OUTAGES:
            return Sent.BUSY
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return Sent.ENDED
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        return Sent.BUSY
    return Sent.TAKEN


async def recorded_once(
    pool: Queryable, link: Link, answer_id: uuid.UUID, action: str, detail: dict[str, Any] | None = None
) -> None:
    """Marks what the link sent under `answer_id` recorded and audits it as the patient via the link, once: a
    second submit of the same form finds it recorded already. The audit row names no answer's value."""
    if await answer_recorded(pool, answer_id, link.link_id):
        await audit.record(
            pool,
            actor=RECORDED_BY,
            action=action,
            pathway_id=link.pathway_id,
            patient_ref=link.patient_ref,
            detail={"via": "patient_link", "link_id": str(link.link_id), **(detail or {})},
        )
