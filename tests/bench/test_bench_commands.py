"""The benchmark commands' cores run end to end on one local stack with tiny numbers and give sane rows (their
figures are printed by the commands, never asserted: this checks that they measure, not how fast)."""

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bench import end_to_end, read_path, start_rate
from bench import profile as bench_profile
from bench.figures import Report
from bench.stack import BenchStack, local_stack
from tests.integration.polling import poll_view
from tests.integration.walk import start_at_mri


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[BenchStack]:
    async with local_stack() as stack:
        yield stack


def ratios(report: Report) -> list[float]:
    return [row.spread.median for row in report.rows if row.unit == "ratio"]


async def test_the_start_rate_makes_as_many_api_and_raw_starts_as_asked(stack: BenchStack) -> None:
    figures = await start_rate.measure_starts(stack, starts=10, concurrency=5, repeats=1)
    assert [(f.api.count, f.api.errors, f.raw.count, f.raw.errors) for f in figures] == [(10, 0, 10, 0)]
    report = Report("start_rate", "test")
    start_rate.add_rows(report, "file-backed", figures)
    assert {row.name for row in report.rows} >= {
        "file-backed: API starts",
        "file-backed: raw starts",
        "file-backed: API / raw",
        "file-backed: API latency p99",
    }
    assert len(ratios(report)) == 1 and ratios(report)[0] > 0


async def test_the_read_path_reads_each_way_for_its_seconds(stack: BenchStack) -> None:
    ids = await read_path.open_pathways(stack, 4, concurrency=4)
    assert len(set(ids)) == 4
    figures = await read_path.measure_reads(stack, ids, clients=3, seconds=1, repeats=1)
    runs = figures[0].runs
    assert set(runs) == set(read_path.KINDS)
    assert all(run.count > 0 and run.errors == 0 for run in runs.values()), runs
    assert {"api", "worker", "temporal", "postgres"} <= set(figures[0].cpu["API get"])
    report = Report("read_path", "test")
    read_path.add_rows(report, "file-backed", figures)
    assert len(ratios(report)) == 2 and all(r > 0 for r in ratios(report))
    assert any(row.name == "file-backed: API get p99" and row.goal for row in report.rows)
    assert any(row.name == "file-backed: API floor p99" for row in report.rows)  # the HTTP stack alone


async def withdrawn_at_mri(api: httpx.AsyncClient, referral_id: str) -> end_to_end.Walked:
    """A short walk to an end (the full one, to `completed`, lasts the demo profile's minute of timers)."""
    began = time.perf_counter()
    pathway_id = await start_at_mri(api, referral_id)
    answer = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "moved away"})
    assert answer.status_code == 200, answer.text
    view = await poll_view(api, pathway_id, "closed", lambda v: v["status"] != "active")
    return end_to_end.Walked(time.perf_counter() - began, view["outcome"], 0)


async def test_end_to_end_walks_a_batch_at_once_and_measures_each_part_of_the_stack(
    stack: BenchStack,
) -> None:
    batch = await end_to_end.measure_batch(stack, 3, "TEST", walk=withdrawn_at_mri)
    assert batch.failed == []
    assert [w.outcome for w in batch.walked] == ["withdrawn"] * 3 and batch.completed == 3
    assert batch.per_minute > 0
    assert {"api", "worker", "temporal", "postgres", "bench"} <= set(batch.cpu)
    report = Report("end_to_end", "test")
    end_to_end.add_rows(report, "file-backed", [batch], 3)
    rows = {row.name: row.spread.median for row in report.rows}
    assert rows["file-backed: completed of 3"] == 3 and rows["file-backed: pathways completed"] > 0


async def test_the_profile_samples_the_api_and_the_worker_while_referrals_arrive(
    stack: BenchStack, tmp_path: Path
) -> None:
    profile = await bench_profile.starts(stack, seconds=2, directory=tmp_path, warm_up=1)
    assert profile.load == "starts" and profile.requests_per_second > 0
    assert [part.part for part in profile.parts] == ["api", "worker"]
    api, worker = profile.parts
    assert api.samples > 0 and worker.samples > 0
    assert api.cpu_percent > 0 and api.cpu_ms_per_request > 0
    # The referral's own code is on the API's stack (about half its samples); the worker runs the new
    # pathways in the SDK (its own code is too little of 2 s of samples to be sure to be caught).
    assert any(share.name.startswith("take_referral (api/") for share in api.own), api.own
    assert "temporalio" in {share.name for share in worker.packages}, worker.packages
    assert (tmp_path / "profile-starts-api.txt").read_text().strip()
    shown = bench_profile.show([profile], "file-backed")
    assert f"### api: {api.cpu_percent:.0f} % of a core" in shown
    assert f"| {api.own[0].name} | {api.own[0].percent:.1f} |" in shown


async def test_a_profiler_that_cannot_attach_ends_the_load_at_once_with_its_error(
    stack: BenchStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusing = tmp_path / "py-spy"
    refusing.write_text("#!/bin/sh\necho 'Permission denied (os error 13)' >&2\nexit 1\n")
    refusing.chmod(0o755)
    monkeypatch.setattr(bench_profile, "py_spy", lambda: str(refusing))
    began = time.perf_counter()
    with pytest.raises(bench_profile.ProfilerError, match="Permission denied"):
        await bench_profile.starts(stack, seconds=60, directory=tmp_path, warm_up=0)
    assert time.perf_counter() - began < 30  # not the 60 s asked for: the load stopped with the profiler
