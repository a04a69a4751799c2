"""A step sent with an Idempotency-Key is audited once, however often it is sent: its retries, sequential or
concurrent, write no second row. A retry of a request that died before its audit row writes that row."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import httpx
import pytest
from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api import step_recording
from api.app import create_app
from api.dependencies import PathwayHandle
from api.problems import Problem
from api.step_recording import StepRequest, recorded
from config.settings import Settings
from db import audit
from db.api_clients import client_for_key
from tests.integration.conftest import API_KEY
from tests.integration.polling import next_action_is, poll_view
from tests.integration.problems import assert_problem
from tests.integration.walk import start_at_mri

REVIEW = {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. R"}
EXAM = {"palpation_concordant": True, "levels": ["L4-L5"], "examined_by": "Dr. P"}


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"audit-{uuid.uuid4()}"}


async def _audited(pool: asyncpg.Pool, pathway_id: str, action: str) -> int:
    count: int = await pool.fetchval(
        "select count(*) from audit_log where pathway_id = $1 and action = $2", pathway_id, action
    )
    return count


def _events(view: dict[str, Any], event: str) -> int:
    return sum(1 for entry in view["timeline"] if entry["event"] == event)


async def test_concurrent_and_later_retries_of_a_keyed_step_write_one_audit_row(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    pathway_id = await start_at_mri(api, f"REF-AUDITONCE-{uuid.uuid4().hex[:8]}")
    key = _key()
    path = f"/v1/pathways/{pathway_id}/mri-review"
    answers = await asyncio.gather(*(api.post(path, json=REVIEW, headers=key) for _ in range(10)))
    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers if a.status_code != 200]
    later = await api.post(path, json=REVIEW, headers=key)
    assert later.status_code == 200, later.text
    assert _events(later.json(), "mri_reviewed") == 1
    assert await _audited(pool, pathway_id, "mri_review.write") == 1

    # A step that is really taken is audited, with another key or with none.
    await poll_view(api, pathway_id, "exam booked", next_action_is("exam"))
    exam = await api.post(f"/v1/pathways/{pathway_id}/exam", json=EXAM)
    assert exam.status_code == 200, exam.text
    assert await _audited(pool, pathway_id, "exam.write") == 1


@pytest.fixture
async def audit_crashing_api(
    pool: asyncpg.Pool, temporal: Client, worker: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """The API with a step's audit row that fails once, after the step was taken (a request that dies
    between the Update and its audit row)."""
    crashes = [RuntimeError("the audit row was lost")]

    async def crash_once(*args: Any, **kwargs: Any) -> None:
        if crashes:
            raise crashes.pop()
        await audit.record(*args, **kwargs)

    monkeypatch.setattr(step_recording, "audit", SimpleNamespace(record=crash_once))
    app = create_app(Settings(profile="demo", update_timeout_seconds=20), pool=pool, temporal=temporal)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://api.test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as client:
        yield client


async def test_the_retry_of_a_step_whose_audit_row_was_lost_writes_it(
    api: httpx.AsyncClient, audit_crashing_api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    pathway_id = await start_at_mri(api, f"REF-AUDITLOST-{uuid.uuid4().hex[:8]}")
    key = _key()
    path = f"/v1/pathways/{pathway_id}/mri-review"
    crashed = await audit_crashing_api.post(path, json=REVIEW, headers=key)
    assert_problem(crashed, 500, "/problems/internal-error")
    assert await _audited(pool, pathway_id, "mri_review.write") == 0

    for _ in range(2):
        retry = await audit_crashing_api.post(path, json=REVIEW, headers=key)
        assert retry.status_code == 200, retry.text
        assert _events(retry.json(), "mri_reviewed") == 1
    assert await _audited(pool, pathway_id, "mri_review.write") == 1


class _Review(BaseModel):
    levels: list[str]
    reviewed_by: str


async def test_a_key_freed_after_its_pending_step_was_refused_audits_the_corrected_step(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pending request audited the key's write; the retry was refused, which frees the key and its
    audit marker: the corrected step sent with the key is audited (once)."""
    client = await client_for_key(pool, API_KEY)
    assert client is not None
    pathway_id = f"pathway-{uuid.uuid4()}"
    step = StepRequest(
        handle=cast(PathwayHandle, SimpleNamespace(id=pathway_id)),
        temporal=cast(Client, None),
        pool=pool,
        settings=Settings(profile="demo", update_timeout_seconds=1),
        idempotency_key=f"audit-{uuid.uuid4()}",
        received_at=datetime.now(UTC),
    )

    async def view_after(*_: Any) -> Any:
        return SimpleNamespace(patient_ref=None)

    monkeypatch.setattr(step_recording, "current_view", view_after)

    def sending(outcome: BaseException | None) -> Callable[[str | None], Awaitable[object]]:
        async def send(_: str | None) -> None:
            if outcome is not None:
                raise outcome

        return send

    async def post(body: _Review, outcome: BaseException | None) -> None:
        await recorded(step, client, "mri-review", body, sending(outcome), "mri_review.write")

    first = _Review(levels=["L4-L5", "L5-S1"], reviewed_by="Dr. R")
    with pytest.raises(Problem, match="not confirmed"):
        await post(first, TimeoutError())
    with pytest.raises(Problem):
        await post(first, WorkflowUpdateFailedError(ApplicationError("refused")))
    corrected = first.model_copy(update={"levels": ["L4-L5"]})
    for _ in range(2):
        await post(corrected, None)
    rows = await pool.fetch("select detail from audit_log where pathway_id = $1 order by id", pathway_id)
    assert [r["detail"] for r in rows] == [
        {"confirmed": False, "reviewed_by": "Dr. R"},
        {"reviewed_by": "Dr. R"},
    ]
