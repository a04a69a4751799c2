"""The patient's choice of messages from the link page: the form read into the decisions it changes, and
those decisions recorded once per rendered form.

The form says which categories were granted when it was rendered (`was_granted`) beside the patient's ticks
(`granted`): only the categories the patient changed on it are recorded, so a page left open in another tab
never re-decides a category someone changed since. Each decision has source `link` (domain/consents.py).

The form's answer id is claimed in `patient_link_answers` (as the page's other forms are) in the same
transaction as the decisions and their audit row: a second submit of the same form, even one racing the
first, finds the claim taken and records nothing.
"""

import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs

import asyncpg

from api.link_answers import RECORDED_BY, FormError
from db import audit
from db.consents import record_consents
from db.patient_links import Link, answer_recorded, claim_answer
from domain.consents import ConsentCategory, ConsentSource

CONSENTS_KEY = "consents"
"""The `question` of the choices form's answer row (no question or appointment key looks like it)."""

_CATEGORIES = frozenset(ConsentCategory)


@dataclass(frozen=True)
class ChoicesForm:
    answer_id: uuid.UUID
    changed: dict[ConsentCategory, bool]
    """The categories the patient changed on the form, and whether each is now granted."""


def read_choices(body: bytes) -> ChoicesForm:
    """The form the page rendered, as sent; FormError for a body that is not one (no answer id, a category
    that does not exist)."""
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=20)
        [answer_id] = fields.get("answer_id", [""])
        form_id = uuid.UUID(answer_id)
    except (UnicodeDecodeError, ValueError) as err:
        raise FormError("not a choices form") from err
    granted, was = set(fields.get("granted", [])), set(fields.get("was_granted", []))
    if not _CATEGORIES.issuperset(granted | was):
        raise FormError("unknown category")
    changed = {ConsentCategory(c): c in granted for c in sorted(_CATEGORIES) if (c in granted) != (c in was)}
    return ChoicesForm(form_id, changed)


async def record_choices(pool: asyncpg.Pool, link: Link, form: ChoicesForm) -> None:
    """Records the changed categories as the patient's decisions, with their audit row, unless this form was
    sent before (the claim is taken, and that submit recorded them)."""
    async with pool.acquire() as conn, conn.transaction():
        claimed = await claim_answer(
            conn,
            form.answer_id,
            link.link_id,
            question=CONSENTS_KEY,
            workflow_id=link.pathway_id,
            red_flags=False,
        )
        if claimed is None:
            return
        if form.changed:
            await record_consents(conn, link.patient_ref, form.changed, ConsentSource.LINK)
            await audit.record(
                conn,
                actor=RECORDED_BY,
                action="patient.write",  # as PATCH /v1/patients writes it: one query finds every change
                pathway_id=link.pathway_id,
                patient_ref=link.patient_ref,
                detail={
                    "via": "patient_link",
                    "link_id": str(link.link_id),
                    "fields": [f"consents.{category}" for category in sorted(form.changed)],
                },
            )
        await answer_recorded(conn, form.answer_id, link.link_id)
