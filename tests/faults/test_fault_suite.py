"""The fault suite's two cheapest scenarios, small, on one real demo stack: a worker killed with SIGKILL while
pain reports arrive, and the SMS gateway and SMTP server failing (5xx, a reset after taking the message) then
taking messages again. Nothing is lost, sent twice, recorded as sent and never sent, or booked twice; no
client sees a 5xx other than 503; every message is settled when counted; and the fault took effect. The whole
suite (`python -m faults`) runs every scenario with more pathways."""

from collections.abc import AsyncIterator

import pytest

from faults.rig import Rig, rig
from faults.scenarios import Options, providers_failing, worker_killed_mid_diary

SMALL = Options(
    pathways=2, sms_faults=("500", "reset", "500"), email_faults=("421", "reset-after-answer", "421")
)


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Rig]:
    async with rig() as started:
        yield started


async def test_a_worker_killed_mid_diary_loses_and_repeats_nothing(stack: Rig) -> None:
    outcome = await worker_killed_mid_diary(stack, SMALL)
    assert "the supervisor started a new worker: yes" in outcome.notes
    assert outcome.clean, outcome


async def test_providers_failing_then_recovering_lose_and_repeat_nothing(stack: Rig) -> None:
    outcome = await providers_failing(stack, SMALL)
    assert outcome.clean, outcome
    # Every scheduled failure was met: the faults happened.
    assert "faults met: SMS 3 of 3" in outcome.notes[-1] and "e-mail 3 of 3" in outcome.notes[-1]
