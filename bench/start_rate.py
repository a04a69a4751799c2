"""Start rate: `POST /v1/referrals` through the API against raw `client.start_workflow` of a trivial workflow
on the same Temporal server, side by side in each repeat, on the file-backed dev server and the in-memory one.

    python -m bench.start_rate [--starts 300] [--concurrency 20] [--repeats 3]
"""

import argparse
import uuid
from dataclasses import dataclass

from temporalio.client import Client
from temporalio.worker import Worker

from bench.figures import REPEATS, Report, Row, Spread
from bench.load import Run, run_count
from bench.noop_workflow import NoopWorkflow
from bench.pathways import AT_MRI_REVIEW, api_session, load_note, refer, run_tag, until_count
from bench.stack import BenchStack, local_stack
from bench.stoppable import run_stoppable

SETTLE_TIMEOUT = 300.0
GOAL = 0.9
NOOP_RUNNING = "WorkflowType = 'BenchNoop' AND ExecutionStatus = 'Running'"


@dataclass
class StartRepeat:
    api: Run
    raw: Run
    settle_seconds: float
    """How long the stack took, after the API's run, to bring its pathways to the MRI review."""
    unsettled: list[str]
    """Waits for a quiet stack that ran out (the next run started anyway)."""


async def measure_starts(
    stack: BenchStack, *, starts: int, concurrency: int, repeats: int, idempotency_key: bool = True
) -> list[StartRepeat]:
    """`repeats` times: `starts` referrals through the API and `starts` raw starts, `concurrency` at a time,
    the order alternating between repeats; before each run the stack is quiet (every pathway started so far
    waits at its MRI review, every trivial workflow has ended)."""
    client = await stack.temporal()
    tag = run_tag()
    task_queue = f"bench-noop-{uuid.uuid4().hex[:8]}"
    figures: list[StartRepeat] = []
    started = 0
    async with (
        Worker(client, task_queue=task_queue, workflows=[NoopWorkflow]),
        api_session(stack, concurrency) as session,
    ):
        # Connections opened, the worker polling: the first run of a repeat pays for neither.
        await refer(session, f"BENCH-{tag}-WARM", idempotency_key=idempotency_key)
        started += 1
        await _raw_start(client, task_queue, f"bench-noop-{tag}-warm")
        for repeat in range(repeats):

            async def api_start(n: int, repeat: int = repeat) -> None:
                await refer(session, f"BENCH-{tag}-{repeat}-{n}", idempotency_key=idempotency_key)

            async def raw_start(n: int, repeat: int = repeat) -> None:
                await _raw_start(client, task_queue, f"bench-noop-{tag}-{repeat}-{n}")

            runs: dict[str, Run] = {}
            settle = 0.0
            unsettled: list[str] = []
            for kind in ("api", "raw") if repeat % 2 == 0 else ("raw", "api"):
                settle += await _quiet(client, started, unsettled)
                runs[kind] = await run_count(starts, concurrency, api_start if kind == "api" else raw_start)
                started += runs[kind].count if kind == "api" else 0
            settle += await _quiet(client, started, unsettled)
            figures.append(StartRepeat(runs["api"], runs["raw"], settle, unsettled))
    return figures


async def _raw_start(client: Client, task_queue: str, workflow_id: str) -> None:
    await client.start_workflow(NoopWorkflow.run, id=workflow_id, task_queue=task_queue)


async def _quiet(client: Client, pathways: int, unsettled: list[str]) -> float:
    """Waits until the `pathways` started so far wait at their MRI review and no trivial workflow runs; on a
    machine too busy for that within SETTLE_TIMEOUT, goes on and says so in `unsettled`."""
    waited = 0.0
    for query, wanted in ((AT_MRI_REVIEW, pathways), (NOOP_RUNNING, 0)):
        try:
            waited += await until_count(client, query, wanted, timeout=SETTLE_TIMEOUT)
        except TimeoutError as err:
            waited += SETTLE_TIMEOUT
            unsettled.append(str(err))
    return waited


def add_rows(report: Report, server: str, figures: list[StartRepeat]) -> None:
    ratios = [f.api.rate / f.raw.rate if f.raw.rate else 0.0 for f in figures]
    ratio = Spread.of(ratios)
    report.add(Row(f"{server}: API starts", "starts/s", Spread.of([f.api.rate for f in figures])))
    report.add(Row(f"{server}: raw starts", "starts/s", Spread.of([f.raw.rate for f in figures])))
    report.add(
        Row(f"{server}: API / raw", "ratio", ratio, goal=f">= {GOAL}", met=ratio.median >= GOAL, digits=3)
    )
    for name, runs in (("API", [f.api for f in figures]), ("raw", [f.raw for f in figures])):
        report.add(Row(f"{server}: {name} latency p50", "ms", Spread.of([r.latency.p50_ms for r in runs])))
        report.add(Row(f"{server}: {name} latency p99", "ms", Spread.of([r.latency.p99_ms for r in runs])))
    errors = sum(f.api.errors + f.raw.errors for f in figures)
    if errors:
        first = next(r.first_error for f in figures for r in (f.api, f.raw) if r.errors)
        report.notes.append(f"{server}: {errors} starts failed (not counted in the rates); first: {first}")
    for unsettled in (u for f in figures for u in f.unsettled):
        report.notes.append(f"{server}: the stack was not quiet before a run: {unsettled}")
    settle = Spread.of([f.settle_seconds for f in figures])
    report.notes.append(
        f"{server}: after each repeat's runs the stack took {settle.show()} s to bring the referrals'"
        " pathways to their MRI review (waited out between runs, outside the timed runs)"
    )


async def main(starts: int, concurrency: int, repeats: int, idempotency_key: bool) -> Report:
    report = Report("start_rate", "Start rate: POST /v1/referrals vs raw start_workflow, same server")
    for server, in_memory in (("file-backed", False), ("in-memory", True)):
        try:
            async with local_stack(in_memory=in_memory) as stack:
                figures = await measure_starts(
                    stack,
                    starts=starts,
                    concurrency=concurrency,
                    repeats=repeats,
                    idempotency_key=idempotency_key,
                )
        except Exception as err:  # the other server's figures are still worth printing
            report.notes.append(f"{server}: not measured: {type(err).__name__}: {err}"[:400])
            continue
        add_rows(report, server, figures)
    report.notes += [
        f"{starts} starts per run at concurrency {concurrency}; {repeats} repeats, each an API run and a raw"
        " run on the same stack, their order alternating (API first in even repeats), the stack quiet before"
        " each run: every pathway started so far waiting at its MRI review, no trivial workflow running",
        "API: a typical referral (tests/referrals.py, a unique referral id and MRN each)"
        + (", with its own Idempotency-Key" if idempotency_key else ", without an Idempotency-Key")
        + ", through aiohttp with one connection per client; 201 counted, anything else a failure",
        "raw: client.start_workflow of a no-op workflow (bench/noop_workflow.py) with the stack's client"
        " (its payload codec), run by a worker in the benchmark's process on a task queue of its own",
        "one stack per server kind (demo profile, one worker); the load generator runs on the same machine",
        load_note(),
    ]
    return report


def cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--starts", type=int, default=300, help="starts per run (300)")
    parser.add_argument("--concurrency", type=int, default=20, help="starts at once (20)")
    parser.add_argument("--repeats", type=int, default=REPEATS, help=f"repeats ({REPEATS})")
    parser.add_argument(
        "--no-idempotency-key", action="store_true", help="send referrals without an Idempotency-Key"
    )
    args = parser.parse_args()
    report = run_stoppable(main(args.starts, args.concurrency, args.repeats, not args.no_idempotency_key))
    report.publish()


if __name__ == "__main__":
    cli()
