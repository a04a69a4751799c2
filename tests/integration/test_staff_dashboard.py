"""The Temporal UI as the staff dashboard, against the real dev server: every ready-made filter is a query its
visibility store accepts and finds what it says, and each workflow says in plain words what it is, with no
PHI."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError

from admin.dashboard_links import README_AS_OF, filters
from domain.identifiers import relief_check_id
from tests.integration.polling import next_action_is, poll_view
from tests.integration.walk import record_steps_to_relief_check
from tests.referrals import referral_body
from workflows import search_attributes as sa

PHOENIX = ZoneInfo("America/Phoenix")
UNPOLLED = "dashboard-test-unpolled"  # no worker polls it: the workflows started here never run


async def test_every_filter_is_a_query_the_server_accepts(temporal: Client) -> None:
    for now in (datetime.now(UTC), README_AS_OF):
        for f in [*filters(now, PHOENIX), *filters(now, PHOENIX, site="phoenix-main")]:
            [_ async for _ in temporal.list_workflows(f.query, limit=1)]  # an invalid query raises RPCError


@pytest.fixture
async def started(temporal: Client) -> AsyncIterator[list[WorkflowHandle[object, object]]]:
    handles: list[WorkflowHandle[object, object]] = []
    yield handles
    for handle in handles:
        with contextlib.suppress(RPCError):  # already closed
            await handle.terminate("test over")


async def _pathway(
    temporal: Client, site: str, stage: str, *, attention: bool, due: datetime, outcome: str | None = None
) -> WorkflowHandle[object, object]:
    """A pathway as visibility sees it (type and search attributes), on a task queue nobody polls."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(sa.CLINIC_SITE, site),
        SearchAttributePair(sa.PATHWAY_STAGE, stage),
        SearchAttributePair(sa.NEEDS_ATTENTION, attention),
        SearchAttributePair(sa.NEXT_ACTION_DUE, due),
    ]
    if outcome is not None:
        pairs.append(SearchAttributePair(sa.PATHWAY_OUTCOME, outcome))
    return await temporal.start_workflow(
        "PatientPathway",
        id=f"pathway-{uuid.uuid4()}",
        task_queue=UNPOLLED,
        search_attributes=TypedSearchAttributes(pairs),
    )


async def test_each_filter_finds_the_pathways_it_describes(
    temporal: Client, started: list[WorkflowHandle[object, object]]
) -> None:
    site = f"dash-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    late = await _pathway(temporal, site, "mri", attention=True, due=now - timedelta(hours=1))
    not_yet = await _pathway(temporal, site, "exam", attention=False, due=now + timedelta(days=1))
    diary = await _pathway(temporal, site, "relief_check", attention=False, due=now - timedelta(minutes=5))
    ended = await _pathway(temporal, site, "closed", attention=False, due=now, outcome="withdrawn")
    started.extend([late, not_yet, diary, ended])
    await ended.terminate("ended for the test")

    expected = {
        "Needs attention": {late.id},
        "Waiting on a clinician, past due": {late.id},  # the diary is the patient's, not a clinician's
        "Relief checks running": {diary.id},
        "Closed this week": {ended.id},
        "Closed this week: withdrawn": {ended.id},
        "Closed this week: dvr_completed": set(),
    }
    found: dict[str, set[str]] = {}
    for _ in range(100):  # visibility catches up within moments
        queries = {f.title: f.query for f in filters(datetime.now(UTC), PHOENIX, site=site)}
        found = {title: {w.id async for w in temporal.list_workflows(queries[title])} for title in expected}
        if found == expected:
            break
        await asyncio.sleep(0.1)
    assert found == expected


async def test_a_pathway_and_its_relief_check_say_what_they_are_without_phi(
    api: httpx.AsyncClient, temporal: Client
) -> None:
    body = referral_body(f"REF-DESC-{uuid.uuid4().hex[:8]}")
    body["patient"].update(
        given_name="Philippa", family_name="Canarysmith", phone="+16025550133", email="philippa.c@example.org"
    )
    created = await api.post("/v1/referrals", json=body)
    assert created.status_code == 201, created.text
    pathway_id, patient_ref = created.json()["pathway_id"], created.json()["patient_ref"]
    pathway = await temporal.get_workflow_handle(pathway_id).describe()
    summary, details = await pathway.static_summary(), await pathway.static_details()
    assert summary == "DVR pathway at phoenix-main (demo timing)"
    assert details is not None
    assert (
        "One patient's pathway towards Direct Visual Rhizotomy (DVR) for facet-joint low back pain" in details
    )
    for stage in (
        "intake",
        "mri",
        "exam",
        "block",
        "relief_check",
        "candidacy",
        "dvr_scheduled",
        "follow_up",
    ):
        assert f"`{stage}`: " in details
    assert f"**Patient:** ref `{patient_ref}`" in details
    assert "dvr-admin patient show" in details

    await poll_view(api, pathway_id, "mri review due", next_action_is("mri_review"))
    await record_steps_to_relief_check(api, pathway_id)
    relief = await temporal.get_workflow_handle(relief_check_id(pathway_id, 1)).describe()
    assert await relief.static_summary() == "Relief check of medial branch block 1"
    relief_details = await relief.static_details()
    assert relief_details is not None
    assert relief_details.startswith(f"The pain diary after medial branch block 1 of pathway `{pathway_id}`")

    patient = body["patient"]
    said = f"{summary}\n{details}\n{relief_details}"
    for phi in (
        patient["given_name"],
        patient["family_name"],
        patient["mrn"],
        patient["phone"],
        patient["email"],
    ):
        assert phi not in said
    assert patient["birth_date"] not in said
