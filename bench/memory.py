"""Memory: the worker's resident memory with 1,000, 5,000 and 10,000 open pathways, per pathway, with the
sticky cache the worker sets (goal: 10,000 under 1 GiB on one worker). Past the cache, the least recently
busy pathways are evicted; measured, not extrapolated, at 10,000 (with fewer counts, the line through the two
largest is extrapolated).

Each repeat runs the whole demo-profile stack (bench/stack.py, its dev server's history in memory: only the
worker is measured), reads the worker's memory with no pathway open, then starts pathways (as
`POST /v1/referrals` does, straight on Temporal: the same input, without the patient rows the API stores),
waits until every one of them is parked at its first human wait (the MRI review) and so held in the worker's
cache, and reads the memory again.

    python -m bench.memory [--counts 1000 5000 10000] [--repeats 3]
"""

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import psutil
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from bench.figures import REPEATS, Report, Row, Spread
from bench.stack import local_stack
from bench.stoppable import run_stoppable
from config.settings import Settings
from domain.inputs import PathwayInput
from domain.policy import default_policy, pathway_config
from domain.referral import ClinicalReferral, History, MriOnFile, Symptoms
from workflows.start import start_pathway

COUNTS = (1_000, 5_000, 10_000)
TARGET = 10_000
GOAL_BYTES = 2**30
CONCURRENCY = 20
SITE = "phoenix-main"  # the demo profile's clinic
CACHE = Settings.model_fields["max_cached_workflows"].default
MIB = 2**20
TRANSIENT = {
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.RESOURCE_EXHAUSTED,
}


@dataclass(frozen=True)
class Reading:
    rss: int
    uss: int | None


@dataclass
class Run:
    """One repeat: the worker's memory with no pathway open, then with each count open."""

    baseline: Reading
    open: dict[int, Reading] = field(default_factory=dict)
    seconds_to_park: dict[int, float] = field(default_factory=dict)

    def per_pathway(self, count: int, uss: bool = False) -> float:
        """Bytes per open pathway: the growth over the baseline, shared out."""
        at, base = self.open[count], self.baseline
        if uss:
            assert at.uss is not None and base.uss is not None
            return (at.uss - base.uss) / count
        return (at.rss - base.rss) / count

    def marginal(self, below: int, above: int) -> float:
        """Bytes per pathway opened between two counts (without the one-off costs of a first workflow)."""
        return (self.open[above].rss - self.open[below].rss) / (above - below)

    def extrapolated(self, target: int) -> float:
        """RSS at `target` open pathways: the line through the two largest counts (or, with one count, through
        the baseline and it)."""
        counts = sorted(self.open)
        largest = counts[-1]
        slope = self.marginal(counts[-2], largest) if len(counts) > 1 else self.per_pathway(largest)
        return self.open[largest].rss + slope * (target - largest)


def read_memory(pid: int) -> Reading:
    process = psutil.Process(pid)
    try:
        uss: int | None = process.memory_full_info().uss
    except (psutil.AccessDenied, AttributeError):  # USS needs /proc/<pid>/smaps
        uss = None
    return Reading(rss=process.memory_info().rss, uss=uss)


def pathway_input(settings: Settings) -> PathwayInput:
    """A typical referral's pathway input, built as api/intake.py builds it (the clinic's default policy)."""
    policy = default_policy(settings.relief_threshold, "demo")
    return PathwayInput(
        patient_ref=str(uuid.uuid4()),
        clinic_site=SITE,
        clinic_timezone="America/Phoenix",
        patient_timezone="America/Phoenix",
        referral=ClinicalReferral(
            symptoms=Symptoms(axial_low_back_pain=True, buttock_radiation=True, pain_below_knee=False),
            history=History(prior_rfa_with_recurrence=True),
            mri=MriOnFile(performed_on=date.today() - timedelta(days=30)),
        ),
        config=pathway_config(policy, "demo"),
        policy_version=1,
        webhook_events=True,
    )


async def start_pathways(client: Client, settings: Settings, count: int, run_tag: str) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one() -> None:
        pathway_id = f"bench-memory-{run_tag}-{uuid.uuid4()}"
        async with gate:
            for attempt in range(5):
                try:  # again under the same id: a start that did go through is found, not doubled
                    await start_pathway(client, pathway_id, pathway_input(settings))
                    return
                except RPCError as err:  # a loaded server's deadline
                    if err.status not in TRANSIENT or attempt == 4:
                        raise

    await asyncio.gather(*(one() for _ in range(count)))


async def until_parked(client: Client, count: int, timeout: float) -> None:
    """Until `count` pathways show the MRI stage: their first workflow task is done, and they
    wait for the MRI review, held in the worker's cache."""
    query = 'PathwayStage = "mri" AND ExecutionStatus = "Running"'  # the stack is the run's own
    deadline = time.monotonic() + timeout
    while (parked := (await client.count_workflows(query)).count) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{parked} of {count} pathways parked at the MRI review")
        await asyncio.sleep(0.5)


async def settled_memory(pid: int) -> Reading:
    """The worker's memory once its last tasks are done: read until it stops moving."""
    last = read_memory(pid)
    for _ in range(10):
        await asyncio.sleep(1.0)
        now = read_memory(pid)
        if abs(now.rss - last.rss) < MIB:
            return now
        last = now
    return last


async def measure(counts: Sequence[int]) -> Run:
    async with local_stack(in_memory=True) as stack:
        client = await stack.temporal()
        pid = stack.worker_pid()
        run = Run(baseline=await settled_memory(pid))
        tag = uuid.uuid4().hex[:8]
        opened = 0
        for count in sorted(counts):
            began = time.monotonic()
            await start_pathways(client, stack.settings, count - opened, tag)
            await until_parked(client, count, timeout=60 + count * 0.2)
            run.seconds_to_park[count] = time.monotonic() - began
            opened = count
            run.open[count] = await settled_memory(pid)
            print(
                f"{count:,} open after {run.seconds_to_park[count]:.0f} s:"
                f" RSS {run.open[count].rss / MIB:.1f} MiB (none open: {run.baseline.rss / MIB:.1f} MiB)",
                file=sys.stderr,
            )
        return run


def report_of(runs: Sequence[Run], counts: Sequence[int]) -> Report:
    report = Report("memory", "Memory: worker RSS with open pathways in its sticky cache")

    def spread(samples: Sequence[float]) -> Spread:
        return Spread.of(list(samples))

    report.add(Row("worker RSS, no pathway open", "MiB", spread([r.baseline.rss / MIB for r in runs])))
    uss = all(r.baseline.uss is not None and all(o.uss is not None for o in r.open.values()) for r in runs)
    if uss:
        report.add(
            Row("worker USS, no pathway open", "MiB", spread([(r.baseline.uss or 0) / MIB for r in runs]))
        )
    for count in counts:
        report.add(Row(f"worker RSS, {count:,} open", "MiB", spread([r.open[count].rss / MIB for r in runs])))
        report.add(
            Row(
                f"RSS per pathway, {count:,} open", "KiB", spread([r.per_pathway(count) / 1024 for r in runs])
            )
        )
        if uss:
            report.add(
                Row(
                    f"USS per pathway, {count:,} open",
                    "KiB",
                    spread([r.per_pathway(count, uss=True) / 1024 for r in runs]),
                )
            )
    largest = max(counts)
    if len(counts) > 1:
        below = max(c for c in counts if c < largest)
        report.add(
            Row(
                f"RSS per pathway, {below:,} to {largest:,} open",
                "KiB",
                spread([r.marginal(below, largest) / 1024 for r in runs]),
            )
        )
    measured = TARGET in counts
    at_target = spread([(r.open[TARGET].rss if measured else r.extrapolated(TARGET)) / MIB for r in runs])
    report.add(
        Row(
            f"worker RSS at {TARGET:,} open ({'measured' if measured else 'linear'})",
            "MiB",
            at_target,
            goal=f"< {GOAL_BYTES // MIB} MiB",
            met=at_target.max * MIB < GOAL_BYTES,
        )
    )
    report.notes.append(
        f"sticky cache: Settings.max_cached_workflows = {CACHE:,} (workers/worker.py); "
        + (
            f"{largest:,} pathways fit, so every one is resident"
            if largest <= CACHE
            else f"{largest:,} exceed it: the least recently busy are evicted, and replay their history on"
            " their next workflow task, so RSS stops growing with the count past the cache (per pathway"
            " figures past it share the cache's memory among more pathways)"
        )
    )
    parked = ", ".join(
        f"{count:,} in {Spread.of([r.seconds_to_park[count] for r in runs]).median:.0f} s" for count in counts
    )
    report.notes.append(
        "demo-profile stack, its dev server's history in memory (only the worker's memory is measured);"
        " pathways started straight on Temporal with the API's input (no patient rows), each parked at the"
        f" MRI review (its first human wait) before reading; cumulative counts, started and parked: {parked}"
    )
    report.notes.append(
        "per pathway = (RSS with N open - RSS with none) / N; between two counts, the growth between them"
        " over the pathways added, and the line through the two largest counts is what is extrapolated;"
        " USS counts only the worker's own pages"
    )
    return report


async def measure_started(counts: Sequence[int], attempts: int = 3) -> Run:
    """`measure`, its stack started again when a loaded machine kept it from coming up in time."""
    for attempt in range(1, attempts + 1):
        try:
            return await measure(counts)
        except AssertionError as err:  # bench/stack.py's start, bounded by tests/integration's timeouts
            said = str(err)
            if not any(w in said for w in ("banner", "readyz", "stack exited")) or attempt == attempts:
                raise
            print(
                f"the stack did not come up in time (attempt {attempt}); starting it again", file=sys.stderr
            )
    raise AssertionError("unreachable")


async def run(counts: Sequence[int], repeats: int, attempts: int = 3) -> Report:
    runs = []
    for repeat in range(1, repeats + 1):
        runs.append(await measure_started(counts, attempts))
        readings = ", ".join(f"{n:,} open {r.rss / MIB:.1f} MiB" for n, r in runs[-1].open.items())
        print(
            f"repeat {repeat}: none open {runs[-1].baseline.rss / MIB:.1f} MiB, {readings}", file=sys.stderr
        )
    return report_of(runs, sorted(counts))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--counts", type=int, nargs="+", default=list(COUNTS))
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--attempts", type=int, default=3, help="stack starts tried per repeat")
    args = parser.parse_args(argv)
    run_stoppable(run(args.counts, args.repeats, args.attempts)).publish()


if __name__ == "__main__":
    main()
