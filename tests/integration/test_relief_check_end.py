"""A pain report that crosses the end of the relief check answers 409, never 500, and a report answered
200 is one the verdict counted (real dev server, real activities)."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from tests.integration.polling import poll_view
from tests.integration.walk import (
    BLOCK,
    RUN_WAIT_SECONDS,
    record_steps_to_block,
    start_at_mri,
    walk_to_relief_check,
)

LATE_REPORTS = 20


async def test_reports_racing_the_verdict_are_counted_or_refused_409(api: httpx.AsyncClient) -> None:
    pathway_id = await walk_to_relief_check(api, "REF-RACE-THE-VERDICT")
    for pain in (1, 0):  # a run of relief at the threshold: the next report of returned pain settles it
        answer = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": pain})
        assert answer.status_code == 200, answer.text
        if pain == 1:
            await asyncio.sleep(RUN_WAIT_SECONDS)
    start = datetime.now(UTC)
    answers = await asyncio.gather(
        *(
            api.post(
                f"/v1/pathways/{pathway_id}/pain-reports",
                json={"pain": 7, "recorded_at": (start + timedelta(milliseconds=n)).isoformat()},
            )
            for n in range(LATE_REPORTS)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {200, 409}, [a.text for a in answers if a.status_code not in (200, 409)]
    assert all(a.json()["type"] == "/problems/wrong-stage" for a in answers if a.status_code == 409)

    view = await poll_view(api, pathway_id, "candidacy", lambda v: v["stage"] == "candidacy")
    assert view["relief_check"]["result"] == "positive"
    assert len(view["relief_check"]["reports"]) == 2 + statuses.count(200)


async def test_a_report_sent_as_the_block_is_answered_is_taken(api: httpx.AsyncClient) -> None:
    """The block's answer shows the relief check before the server has started it: a report sent at once
    waits for the check instead of being told it has ended."""
    pathway_id = await start_at_mri(api, "REF-REPORT-AT-THE-BLOCK")
    await record_steps_to_block(api, pathway_id)
    block = await api.post(f"/v1/pathways/{pathway_id}/block", json=BLOCK)
    assert block.json()["stage"] == "relief_check", block.text
    report = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": 3})
    assert report.status_code == 200, report.text
    assert [r["pain"] for r in report.json()["relief_check"]["reports"]] == [3]
