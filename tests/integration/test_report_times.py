"""A diary report counts when it reached the API, not when the worker took it: a busy or restarted worker
takes it later, and the relief rule reads the diary's times (a first report of relief stamped late can miss
the onset window and turn a positive block negative)."""

from datetime import UTC, datetime

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from domain.identifiers import relief_check_id
from tests.integration.walk import walk_to_relief_check

ACCEPTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
TASK_STARTED = EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED


async def test_a_transcribed_report_counts_from_when_the_api_received_it(
    api: httpx.AsyncClient, temporal: Client
) -> None:
    pathway_id = await walk_to_relief_check(api, "REF-REPORT-RECEIVED-AT")
    answer = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": 3})
    assert answer.status_code == 200, answer.text
    [report] = answer.json()["relief_check"]["reports"]

    history = await temporal.get_workflow_handle(relief_check_id(pathway_id, 1)).fetch_history()
    accepted = next(i for i, e in enumerate(history.events) if e.event_type == ACCEPTED)
    taken = next(e for e in reversed(history.events[:accepted]) if e.event_type == TASK_STARTED)
    # The workflow task that took the report started after the request arrived; its own clock (what the
    # report counted at before) is that task's start.
    assert datetime.fromisoformat(report["at"]) < taken.event_time.ToDatetime(tzinfo=UTC)
