"""Reading a pathway as its view, from a client (the API, the tests): the pathway's own query, with the
running relief check's diary, or the running outcome check-ins, read from the child workflow owning them."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from domain.identifiers import outcome_check_ins_id, relief_check_id
from domain.stages import PathwayStatus, Stage
from domain.view import OutcomeCheckInView, PathwayView, ReliefCheckView, Versioned
from workflows.handles import check_ins_workflow, pathway_workflow, relief_check_workflow
from workflows.outcome_check_ins import OutcomeCheckInsWorkflow
from workflows.pathway import PatientPathwayWorkflow
from workflows.relief_check import ReliefCheckWorkflow
from workflows.view_version import VIEW_CODE_VERSION

log = structlog.get_logger()
T = TypeVar("T")


async def read_pathway_view(client: Client, pathway_id: str) -> PathwayView:
    """The pathway view; raises RPCError when the pathway cannot be queried. While a relief check runs, its
    diary stands for the latest block, in `relief_check` and in `blocks`."""
    view = await read_own_view(client, pathway_id)
    if child_read_by(view) is None:
        return view
    try:
        return await with_child(client, view)
    except RPCError:
        return view  # the child ended between the two reads: the pathway is taking its result


async def read_own_view(client: Client, pathway_id: str) -> PathwayView:
    """The pathway's own query, without what its running child adds (raises RPCError as the query does)."""
    return await pathway_workflow(client, pathway_id).query(PatientPathwayWorkflow.view)


async def read_versioned_view(client: Client, pathway_id: str) -> tuple[PathwayView, str | None]:
    """The pathway's own view, as read_own_view, and the version of the code the worker that answered runs
    (workflows/view_version.py); None when that worker's code predates the versioned query."""
    handle = pathway_workflow(client, pathway_id)
    return await _versioned(
        lambda: handle.query(PatientPathwayWorkflow.versioned_view),
        lambda: handle.query(PatientPathwayWorkflow.view),
    )


async def _versioned(
    ask: Callable[[], Awaitable[Versioned[T]]], ask_unversioned: Callable[[], Awaitable[T]]
) -> tuple[T, str | None]:
    """What a versioned query read, and its version. When it fails, it may be a worker of older code,
    without it. The SDK keeps only the failure's message, and the payload codec encrypts that ("Encoded
    failure"), so any failure counts: the plain query is asked instead (and raises when the workflow cannot
    answer at all), with no version, so that the API never keeps what it read. Logged, as a versioned query
    failing for another reason stops the copies."""
    try:
        answered = await ask()
    except WorkflowQueryFailedError:
        log.warning("reading.versioned_query_failed")
        return await ask_unversioned(), None
    return answered.value, answered.version


def child_read_by(view: PathwayView) -> str | None:
    """The id of the child workflow whose state the view shows (with_child), if any."""
    if view.status != PathwayStatus.ACTIVE:
        return None
    if view.stage == Stage.RELIEF_CHECK:
        return relief_check_id(view.pathway_id, view.relief_check.block_number)
    if view.stage == Stage.OUTCOMES and view.outcomes:
        return outcome_check_ins_id(view.pathway_id)
    return None


async def with_child(client: Client, view: PathwayView) -> PathwayView:
    """The pathway's own view with its running child's part read from that child (child_read_by names it);
    raises RPCError when the child cannot be queried."""
    return (await with_versioned_child(client, view))[0]


async def with_versioned_child(client: Client, view: PathwayView) -> tuple[PathwayView, str | None]:
    """with_child, and the version of the code the child's worker runs (VIEW_CODE_VERSION when there is no
    child to read; None when that worker's code predates the versioned queries)."""
    child_id = child_read_by(view)
    if child_id is None:
        return view, VIEW_CODE_VERSION
    if view.stage == Stage.RELIEF_CHECK:
        diary, version = await _diary(client, child_id)
        blocks = [diary if b.block_number == diary.block_number else b for b in view.blocks]
        update: dict[str, object] = {"relief_check": diary, "blocks": blocks}
        waiting = view.next_action
        if diary.prompts_sent and waiting is not None and waiting.action == "pain_report":
            # The open prompt's answer is due: the check knows it; the pathway was told only the first.
            due = diary.prompts_sent[-1].answer_due_at
            update["next_action"] = waiting.model_copy(update={"due_at": due})
        return view.model_copy(update=update), version
    outcomes, version = await _check_ins(client, child_id)
    return view.model_copy(update={"outcomes": outcomes}), version


async def _diary(client: Client, child_id: str) -> tuple[ReliefCheckView, str | None]:
    handle = relief_check_workflow(client, child_id)
    return await _versioned(
        lambda: handle.query(ReliefCheckWorkflow.versioned_diary),
        lambda: handle.query(ReliefCheckWorkflow.diary),
    )


async def _check_ins(client: Client, child_id: str) -> tuple[list[OutcomeCheckInView], str | None]:
    handle = check_ins_workflow(client, child_id)
    return await _versioned(
        lambda: handle.query(OutcomeCheckInsWorkflow.versioned_check_ins),
        lambda: handle.query(OutcomeCheckInsWorkflow.check_ins),
    )
