"""Red flags a patient sent from the link page with an answer that could not be recorded: the question had
closed (staff recorded it, its window ran out) or the form had been answered before. The answer is not
taken, but the red flags are urgent all the same: they go to the pathway as its `report_red_flags` Update,
which tells the patient what to do, sends staff an urgent message and raises NeedsAttention `red_flags`, as
red flags in an answer would.

One report per form and link: its Update id and its row in `patient_link_answers` derive from both, so a
form sent again (or at once, twice) reports once and is audited once.
"""

import uuid

import structlog
from temporalio.client import Client

from api.link_answers import Sent, recorded_once, sent_once
from config.settings import Settings
from db.patient_links import Link, claim_answer, find_answer, release_answer
from db.pool import Queryable
from domain.results import RedFlag, RedFlagReport
from workflows.handles import pathway_workflow
from workflows.pathway import PatientPathwayWorkflow as Pathway

log = structlog.get_logger()

REPORT_KEY = "red_flags"
"""The `question` of a report's row in patient_link_answers (no form renders it)."""


def report_id(link: Link, answer_id: uuid.UUID) -> uuid.UUID:
    """The report's id for this form on this link (another link's form never shares it)."""
    return uuid.uuid5(link.link_id, f"red-flags:{answer_id}")


async def report_red_flags(
    temporal: Client,
    pool: Queryable,
    settings: Settings,
    link: Link,
    answer_id: uuid.UUID,
    flags: list[RedFlag],
) -> bool:
    """Reports the red flags to the pathway, once per form; True when the pathway has them (now or by an
    earlier submit of the form), False when it could not take them (ended, or Temporal busy): the page then
    tells the patient the clinic was not told, and to call it."""
    report = report_id(link, answer_id)
    earlier = await find_answer(pool, report, link.link_id)
    if earlier is not None and earlier.recorded:
        return True
    if earlier is None:  # a concurrent submit of the form may claim it first: the same Update id attaches
        await claim_answer(
            pool, report, link.link_id, question=REPORT_KEY, workflow_id=link.pathway_id, red_flags=True
        )
    pathway = pathway_workflow(temporal, link.pathway_id)
    update = pathway.execute_update(
        Pathway.report_red_flags, RedFlagReport(red_flags=flags), id=f"red-flags-{report}"
    )
    sent = await sent_once(settings, update)
    if sent == Sent.TAKEN:
        await recorded_once(pool, link, report, "red_flags.write")
        return True
    if sent != Sent.BUSY:  # refused or ended: a later submit may try again (busy: the claim stays)
        await release_answer(pool, report, link.link_id)
    log.warning("patient_link.red_flags_not_passed_on", pathway_id=link.pathway_id, outcome=sent.value)
    return False
