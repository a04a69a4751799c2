"""Recording workflow histories for the replay test (`make record-histories`)."""

import asyncio
import json
from pathlib import Path

from temporalio.client import Client
from temporalio.service import RPCError

from domain.identifiers import relief_check_id

HISTORIES = Path(__file__).parent.parent / "histories"
MAX_BLOCKS = 3


async def record_histories(client: Client, pathway_ids: list[str], folder: Path, name: str) -> None:
    """Writes each pathway's history, and each of its relief checks', as `<name>[-n][.relief-k].json`."""
    await asyncio.to_thread(folder.mkdir, exist_ok=True)
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


async def _write(client: Client, workflow_id: str, path: Path) -> None:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    await asyncio.to_thread(path.write_text, json.dumps(history.to_json_dict()) + "\n")
