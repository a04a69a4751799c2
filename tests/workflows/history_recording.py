"""Recording workflow histories for the replay test (`make record-histories`)."""

import asyncio
import contextlib
import json
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError

from domain.identifiers import outcome_check_ins_id, relief_check_id

HISTORIES = Path(__file__).parent.parent / "histories"
MAX_BLOCKS = 3
READ_DEADLINE = timedelta(seconds=5)


async def record_histories(client: Client, pathway_ids: list[str], folder: Path, name: str) -> None:
    """Writes each pathway's history, each of its relief checks' and its outcome check-ins', as
    `<name>[-n][.relief-k|.outcomes].json`."""
    folder.mkdir(exist_ok=True)  # noqa: ASYNC240 - a test helper writing a few files, not a server
    for number, pathway_id in enumerate(pathway_ids, start=1):
        stem = name if len(pathway_ids) == 1 else f"{name}-{number}"
        await _write(client, pathway_id, folder / f"{stem}.json")
        for block in range(1, MAX_BLOCKS + 1):
            try:
                await _write(
                    client, relief_check_id(pathway_id, block), folder / f"{stem}.relief-{block}.json"
                )
            except RPCError:
                break  # no such relief check: the pathway had fewer blocks
        with contextlib.suppress(RPCError):  # none when the pathway did not reach its outcome check-ins
            await _write(client, outcome_check_ins_id(pathway_id), folder / f"{stem}.outcomes.json")


async def _write(client: Client, workflow_id: str, path: Path) -> None:
    history = await _fetch(client, workflow_id)
    recorded = {"workflow_id": workflow_id, "history": history.to_json_dict()}
    path.write_text(json.dumps(recorded) + "\n")  # noqa: ASYNC240 - as above


async def _fetch(client: Client, workflow_id: str) -> WorkflowHistory:
    """The history; the time-skipping server now and then leaves a history read unanswered, so each read
    has a deadline and is tried again."""
    handle = client.get_workflow_handle(workflow_id)
    for _ in range(4):
        try:
            return await asyncio.wait_for(handle.fetch_history(), timeout=READ_DEADLINE.total_seconds())
        except TimeoutError:
            continue
    raise TimeoutError(f"the history of {workflow_id} could not be read")
