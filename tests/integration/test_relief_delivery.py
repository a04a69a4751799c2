"""The relief check's verdict never waits on message delivery (real dev server, real activities)."""

import asyncio

import asyncpg
import httpx

from tests.integration.conftest import RecordingProvider
from tests.integration.polling import poll_view
from tests.integration.walk import RUN_WAIT_SECONDS, record_steps_to_relief_check, start_at_mri


async def test_a_hung_diary_prompt_does_not_hold_the_verdict(
    api: httpx.AsyncClient, pool: asyncpg.Pool, provider: RecordingProvider
) -> None:
    pathway_id = await start_at_mri(api, "REF-HUNG-PROMPT")
    provider.hold(f"{pathway_id}:diary:")  # the SMS gateway hangs on every diary prompt of this pathway
    try:
        await record_steps_to_relief_check(api, pathway_id)
        await poll_view(api, pathway_id, "a prompt stuck at the gateway", lambda _: bool(provider.held))
        for pain in (1, 0, 7):
            answer = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": pain})
            assert answer.status_code == 200, answer.text
            if pain == 1:
                await asyncio.sleep(RUN_WAIT_SECONDS)
        view = await poll_view(api, pathway_id, "candidacy", lambda v: v["stage"] == "candidacy")
        assert view["relief_check"]["result"] == "positive"
        stuck = await pool.fetch(
            "select status from outbox where pathway_id = $1 and template = 'diary_prompt'", pathway_id
        )
        assert [r["status"] for r in stuck] == ["sending"] * len(stuck) and stuck
    finally:
        provider.release(f"{pathway_id}:diary:")
