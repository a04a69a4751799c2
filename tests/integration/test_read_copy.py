"""`GET /v1/pathways/{id}` serves the pathway's read copy while the workflow's history has not moved on, and
never once it has: whatever changed the pathway (a step through the API, an Update or a child's diary sent to
Temporal directly) shows in the next read; a copy read as another version, or that no longer decodes, is not
served; the copy is kept encrypted, and goes with the retention (api/read_copy.py; real dev server, worker and
PostgreSQL)."""

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api import read_copy
from api.read_copy import VIEW_VERSION, decoded_view, encoded_view, place_of, read_view
from api.read_copy_retention import purge_once, retention_of
from db.read_copies import Place, ViewCopy, fetch_copy, store_copy
from domain.answers import StepAccepted
from domain.identifiers import relief_check_id
from domain.results import MriReview, PainReport
from domain.stages import Stage
from domain.view import PathwayView
from tests.integration.message_links import new_link
from tests.integration.walk import start_at_mri, walk_to_relief_check
from workflows import reading
from workflows.handles import pathway_workflow, relief_check_workflow
from workflows.relief_check import ReliefCheckWorkflow

MARK = "read from the copy"
TRIES = 20


async def _read(api: httpx.AsyncClient, pathway_id: str) -> dict[str, object]:
    answer = await api.get(f"/v1/pathways/{pathway_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


async def _stored(pool: asyncpg.Pool, pathway_id: str) -> ViewCopy:
    stored = await fetch_copy(pool, pathway_id)
    assert stored is not None
    return stored


async def _view_of(temporal: Client, copy: ViewCopy) -> PathwayView:
    view = await decoded_view(temporal, copy.payload)
    assert view is not None
    return view


async def _places(temporal: Client, pathway_id: str, child_id: str | None) -> tuple[Place, Place | None]:
    child = None if child_id is None else await place_of(temporal, child_id)
    return await place_of(temporal, pathway_id), child


async def _served_marked(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client, pathway_id: str, **columns: object
) -> tuple[ViewCopy, dict[str, object]]:
    """Reads the pathway, rewrites its stored view with the mark (places kept; and `columns` as given), and
    reads it again while Temporal describes the stored places before and after that read. Returns the copy as
    stored and the second read's answer. (A background event, a diary prompt, may move history between: then
    again.)"""
    for _ in range(TRIES):
        await _read(api, pathway_id)
        stored = await _stored(pool, pathway_id)
        marked = (await _view_of(temporal, stored)).model_copy(update={"outcome_reason": MARK})
        written = {"view_payload": await encoded_view(temporal, marked), **columns}
        sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(written, start=2))
        await pool.execute(
            f"update pathway_view_copies set {sets} where pathway_id = $1", pathway_id, *written.values()
        )
        expected = (stored.place, stored.child_place)
        if await _places(temporal, pathway_id, stored.child_id) != expected:
            continue
        again = await _read(api, pathway_id)
        if await _places(temporal, pathway_id, stored.child_id) == expected:
            return stored, again
    raise AssertionError(f"history never stood still for a read of {pathway_id}")


async def test_a_read_is_served_from_the_copy_until_an_update_sent_to_temporal_moves_history_on(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client
) -> None:
    pathway_id = await start_at_mri(api, f"REF-COPY-{uuid.uuid4().hex[:8]}")
    first = await _read(api, pathway_id)
    stored, again = await _served_marked(api, pool, temporal, pathway_id)
    assert again["outcome_reason"] == MARK  # served from the copy, without a query
    assert again["contact"] == first["contact"]  # read from the registry each time, as the audit row is
    assert stored.version == VIEW_VERSION and stored.child_id is None
    assert (await _view_of(temporal, stored)).contact is None  # the copy holds the workflow's view alone

    # Past the API: the workflow's own Update. Its history moves on, and the copy is no longer served.
    review = MriReview(facet_swelling=True, levels=["L4-L5"], reviewed_by="Dr. Radiologist")
    accepted = await pathway_workflow(temporal, pathway_id).execute_update(
        "record_mri_review", review, result_type=StepAccepted
    )
    assert accepted.stage == Stage.EXAM
    after = await _read(api, pathway_id)
    assert after["outcome_reason"] is None
    assert after["criteria"]["mri_facet_swelling"] is True  # type: ignore[index]
    renewed = await _stored(pool, pathway_id)
    assert renewed.place.length > stored.place.length


async def test_a_patients_link_page_reads_the_pathway_through_its_copy(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client, served_api: str
) -> None:
    """A patient opening a link reads the view as the API does: while the pathway is at rest, from its copy,
    at no cost to the worker (the inbound SMS reply reads it the same way)."""
    pathway_id = await start_at_mri(api, f"REF-COPY-LINK-{uuid.uuid4().hex[:8]}")
    patient_ref = str((await _read(api, pathway_id))["patient_ref"])
    await pool.execute("delete from pathway_view_copies where pathway_id = $1", pathway_id)
    link = await new_link(pool, served_api, pathway_id, patient_ref)
    async with httpx.AsyncClient(follow_redirects=False) as phone:
        page = await phone.get(link)
    assert page.status_code == 200, page.text
    stored = await _stored(pool, pathway_id)  # the page's read stored the copy that later reads are served
    assert stored.place.run_id == (await place_of(temporal, pathway_id)).run_id


async def test_a_diary_report_sent_to_the_relief_check_shows_in_the_next_read(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client
) -> None:
    pathway_id = await walk_to_relief_check(api, f"REF-COPY-DIARY-{uuid.uuid4().hex[:8]}")
    stored, again = await _served_marked(api, pool, temporal, pathway_id)
    diary_id = relief_check_id(pathway_id, 1)
    assert stored.child_id == diary_id and stored.child_place is not None
    assert again["outcome_reason"] == MARK

    # The report goes to the child: its history moves, and the pathway's own may not.
    await relief_check_workflow(temporal, diary_id).execute_update(
        ReliefCheckWorkflow.record_pain_report, PainReport(pain=2)
    )
    after = await _read(api, pathway_id)
    assert after["outcome_reason"] is None
    assert [r["pain"] for r in after["relief_check"]["reports"]] == [2]  # type: ignore[index]


async def test_a_copy_read_as_another_version_or_that_no_longer_decodes_is_not_served(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client
) -> None:
    pathway_id = await start_at_mri(api, f"REF-COPY-VERSION-{uuid.uuid4().hex[:8]}")
    _, again = await _served_marked(api, pool, temporal, pathway_id, view_version="0:older")
    assert again["outcome_reason"] is None  # queried instead, and stored anew
    assert (await _stored(pool, pathway_id)).version == VIEW_VERSION

    await pool.execute(
        "update pathway_view_copies set view_payload = $2 where pathway_id = $1",
        pathway_id,
        b"\x0anot a view",
    )
    view = await _read(api, pathway_id)
    assert view["pathway_id"] == pathway_id and view["stage"] == "mri"
    assert await _view_of(temporal, await _stored(pool, pathway_id)) == PathwayView.model_validate(
        {**view, "contact": None}
    )


async def test_a_copy_whose_child_temporal_does_not_have_is_not_served_and_the_read_answers(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client
) -> None:
    """A child that is not there to describe (past its retention, or a copy of a run Temporal lost) is a
    place that cannot match: the read queries, as for any other stale copy, and answers 200."""
    pathway_id = await start_at_mri(api, f"REF-COPY-CHILD-{uuid.uuid4().hex[:8]}")
    gone = {"child_id": f"relief-check-{uuid.uuid4()}", "child_run_id": "gone", "child_history_length": 3}
    _, again = await _served_marked(api, pool, temporal, pathway_id, **gone)
    assert again["outcome_reason"] is None and again["stage"] == "mri"
    assert (await _stored(pool, pathway_id)).child_id is None  # stored anew, as the query read it


@pytest.mark.parametrize("read_by", ["the pathway's worker", "the child's worker"])
async def test_a_view_another_build_answered_is_answered_and_never_kept(
    api: httpx.AsyncClient,
    pool: asyncpg.Pool,
    temporal: Client,
    monkeypatch: pytest.MonkeyPatch,
    read_by: str,
) -> None:
    """Old and new builds side by side (a deploy): a view the pathway's worker, or its running child's, read
    with other code than this API's is answered as read, and no copy stands for it."""
    pathway_id = await walk_to_relief_check(api, f"REF-COPY-OTHER-{uuid.uuid4().hex[:8]}")
    if read_by == "the pathway's worker":

        async def other_build(client: Client, pathway_id: str) -> tuple[PathwayView, str | None]:
            return (await reading.read_versioned_view(client, pathway_id))[0], "another-build"

        monkeypatch.setattr(read_copy, "read_versioned_view", other_build)
    else:

        async def other_child(client: Client, view: PathwayView) -> tuple[PathwayView, str | None]:
            return (await reading.with_versioned_child(client, view))[0], "another-build"

        monkeypatch.setattr(read_copy, "with_versioned_child", other_child)
    await pool.execute("delete from pathway_view_copies where pathway_id = $1", pathway_id)
    view = await _read(api, pathway_id)
    assert view["stage"] == "relief_check" and view["relief_check"]["performed_at"]  # type: ignore[index]
    assert await fetch_copy(pool, pathway_id) is None


async def test_the_workers_answer_with_the_version_of_their_code(
    temporal: Client, api: httpx.AsyncClient
) -> None:
    pathway_id = await walk_to_relief_check(api, f"REF-COPY-VERSIONS-{uuid.uuid4().hex[:8]}")
    view, version = await reading.read_versioned_view(temporal, pathway_id)
    assert version == VIEW_VERSION
    assert await reading.with_versioned_child(temporal, view) == (
        await reading.with_child(temporal, view),
        VIEW_VERSION,
    )


async def test_a_view_a_worker_older_than_the_versioned_query_answered_is_read_and_not_kept(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client
) -> None:
    """A worker whose code has the view query alone (before the versioned one): the read answers with its
    view, and nothing is kept under a version it never named."""
    pathway_id = f"pathway-{uuid.uuid4()}"
    queue = f"older-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal, task_queue=queue, workflows=[_OlderPathway], workflow_runner=UnsandboxedWorkflowRunner()
    ):
        await temporal.start_workflow(_OlderPathway.run, pathway_id, id=pathway_id, task_queue=queue)
        assert await reading.read_versioned_view(temporal, pathway_id) == (_older_view(pathway_id), None)
        view = await read_view(temporal, pool, pathway_id)
        assert view == _older_view(pathway_id)
        assert await fetch_copy(pool, pathway_id) is None
        await temporal.get_workflow_handle(pathway_id).terminate("the test is over")


def _older_view(pathway_id: str) -> PathwayView:
    return PathwayView(pathway_id=pathway_id, clinic_site="main", patient_ref="p", profile="demo")


@workflow.defn(name="PatientPathway", sandboxed=False)
class _OlderPathway:
    """The pathway's type as a worker of older code serves it: the view query, and no versioned one."""

    def __init__(self) -> None:
        self._id = ""

    @workflow.run
    async def run(self, pathway_id: str) -> None:
        self._id = pathway_id
        await workflow.wait_condition(lambda: False)

    @workflow.query
    def view(self) -> PathwayView:
        return _older_view(self._id)


async def test_a_copy_that_cannot_be_encoded_is_not_kept_and_the_read_answers(
    api: httpx.AsyncClient, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pathway_id = await start_at_mri(api, f"REF-COPY-ENC-{uuid.uuid4().hex[:8]}")
    await pool.execute("delete from pathway_view_copies where pathway_id = $1", pathway_id)

    async def codec_failing(*args: object) -> bytes:
        raise RuntimeError("the codec failed")

    monkeypatch.setattr(read_copy, "encoded_view", codec_failing)
    view = await _read(api, pathway_id)  # the view was read: only keeping it failed
    assert view["stage"] == "mri"
    assert await fetch_copy(pool, pathway_id) is None


async def test_the_copy_is_kept_encrypted(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    pathway_id = await start_at_mri(api, f"REF-COPY-SEALED-{uuid.uuid4().hex[:8]}")
    view = await _read(api, pathway_id)
    raw = bytes(
        await pool.fetchval("select view_payload from pathway_view_copies where pathway_id = $1", pathway_id)
    )
    payload = Payload.FromString(raw)
    assert payload.metadata["encoding"] == b"binary/encrypted"
    for clear in (pathway_id, str(view["patient_ref"]), "mri_review", "phoenix-main"):
        assert clear.encode() not in raw


async def test_a_copy_read_further_on_is_not_replaced_by_one_read_before_it(
    pool: asyncpg.Pool, temporal: Client
) -> None:
    pathway_id = f"pathway-{uuid.uuid4()}"
    view = PathwayView(pathway_id=pathway_id, clinic_site="main", patient_ref="p", profile="demo")

    async def store(run_id: str, length: int, child: Place | None = None, reason: str = "") -> None:
        payload = await encoded_view(temporal, view.model_copy(update={"outcome_reason": reason}))
        await store_copy(
            pool, pathway_id, ViewCopy(Place(run_id, length), "child", child, VIEW_VERSION, payload)
        )

    async def kept() -> str | None:
        return (await _view_of(temporal, await _stored(pool, pathway_id))).outcome_reason

    await store("run-1", 20, reason="at 20")
    await store("run-1", 12, reason="at 12")
    assert await kept() == "at 20"
    await store("run-1", 20, Place("child-1", 9), reason="child at 9")
    await store("run-1", 20, Place("child-1", 5), reason="child at 5")
    assert await kept() == "child at 9"
    await store("run-1", 20, Place("child-1", 12), reason="child at 12")  # the child's history moved on
    assert await kept() == "child at 12"
    await store("run-1", 20, Place("child-2", 3), reason="the child's next run")
    assert await kept() == "the child's next run"
    await store("run-2", 4, reason="the next run")
    assert await kept() == "the next run"


async def test_a_pathway_temporal_no_longer_has_loses_its_copy(pool: asyncpg.Pool, temporal: Client) -> None:
    pathway_id = f"pathway-{uuid.uuid4()}"
    await store_copy(pool, pathway_id, ViewCopy(Place("gone", 30), None, None, VIEW_VERSION, b""))
    with pytest.raises(RPCError) as raised:
        await read_view(temporal, pool, pathway_id)
    assert raised.value.status == RPCStatusCode.NOT_FOUND
    assert await fetch_copy(pool, pathway_id) is None


async def test_copies_past_the_namespace_retention_are_purged(pool: asyncpg.Pool, temporal: Client) -> None:
    retention = await retention_of(temporal)
    assert retention > timedelta(0)  # the dev server's namespace keeps closed histories for a while
    now = datetime.now(UTC)
    ages = {
        "closed long ago": (now - retention - timedelta(hours=1), now),
        "closed lately": (now - retention + timedelta(hours=1), now - retention - timedelta(days=1)),
        "open, not stored for the retention": (None, now - retention - timedelta(hours=1)),
        "open, stored lately": (None, now - timedelta(hours=1)),
    }
    ids = {}
    for what, (closed_at, stored_at) in ages.items():
        pathway_id = ids[what] = f"pathway-{uuid.uuid4()}"
        await store_copy(
            pool, pathway_id, ViewCopy(Place("run", 1), None, None, VIEW_VERSION, b"", closed_at)
        )
        await pool.execute(
            "update pathway_view_copies set stored_at = $2 where pathway_id = $1", pathway_id, stored_at
        )
    assert await purge_once(temporal, pool) >= 2
    kept = {what for what, pathway_id in ids.items() if await fetch_copy(pool, pathway_id) is not None}
    assert kept == {"closed lately", "open, stored lately"}


async def test_a_closed_pathways_copy_keeps_when_it_closed(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client
) -> None:
    pathway_id = await start_at_mri(api, f"REF-COPY-CLOSED-{uuid.uuid4().hex[:8]}")
    await _read(api, pathway_id)
    assert (await _stored(pool, pathway_id)).closed_at is None
    withdrawn = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "moved away"})
    assert withdrawn.status_code == 200, withdrawn.text
    await pathway_workflow(temporal, pathway_id).result()  # the workflow has ended, not only its stage
    view = await _read(api, pathway_id)
    closed = await _stored(pool, pathway_id)
    description = await pathway_workflow(temporal, pathway_id).describe()
    assert (await _view_of(temporal, closed)).status == view["status"] == "closed"
    assert closed.closed_at is not None and closed.closed_at == description.close_time
