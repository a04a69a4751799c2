"""End to end: pathways completed per minute at saturation in the demo profile with one worker, and the CPU
each process of the stack used meanwhile (the one near a whole core, or the machine's CPUs all busy, is what
saturates), on the file-backed dev server and the in-memory one.

    python -m bench.end_to_end [--pathways 100] [--repeats 3]

Each pathway is walked through the API as upstream systems and staff would: the referral, MRI review, exam,
block, a positive pain diary, candidacy, the procedure (tests/integration/walk.py: walk_to_follow_up), the
next-day follow-up, and the five outcome check-ins transcribed by staff while each is open, until the pathway
is `completed` (outcome `dvr_completed`).
"""

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.figures import REPEATS, Report, Row, Spread
from bench.pathways import CpuMeter, load_note, run_tag, stack_processes
from bench.stack import BenchStack, local_stack
from bench.stoppable import run_stoppable
from tests.integration.polling import poll_view
from tests.integration.walk import walk_to_follow_up

POLL_SECONDS = 0.5
"""How often staff look at a pathway while its outcome check-ins run (each is open for 6 s in the demo)."""
OUTCOMES_TIMEOUT = 300.0
PATIENCE_TRIES = 1_200
"""Reads of a pathway's view (0.1 s apart, each as slow as a saturated stack answers) before a walk gives up
on a step's effect: four times the tests' walks (tests/integration/polling.py TRIES)."""
FOLLOW_UP = {"pain": 1, "returned_to_work": True, "red_flags": []}
TRANSCRIBED = {"pain": 2, "work_status": "working_full", "pgic": 2, "recorded_by": "Nurse K"}


@dataclass
class Walked:
    seconds: float
    outcome: str | None
    transcribed: int
    overridden: bool = False
    """Its block came out not positive (its diary reports arrived late on a busy stack) and was approved over
    it."""


@dataclass
class Batch:
    elapsed: float = 0.0
    walked: list[Walked] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        """Pathways walked to their end (`dvr_completed` in the benchmark's walk)."""
        return sum(1 for w in self.walked if w.outcome is not None)

    @property
    def per_minute(self) -> float:
        return 60 * self.completed / self.elapsed if self.elapsed > 0 else 0.0


async def walk_to_completion(api: httpx.AsyncClient, referral_id: str) -> Walked:
    """One pathway from referral to `completed`; the outcome check-ins transcribed while open (one missed
    under load is left to the pathway, which gives it up and still completes). The diary's reports are sent
    at the demo's pace, a few seconds apart; on a saturated stack the first prompt, and so the first report,
    may come past the onset window, so a block may come out not positive; the candidacy and the procedure
    then carry an override reason, and the pathway walks the same steps either way."""
    began = time.perf_counter()
    pathway_id = await walk_to_follow_up(api, referral_id, tries=PATIENCE_TRIES, any_verdict=True)
    await poll_view(
        api,
        pathway_id,
        "follow-up check-in",
        lambda v: any(e["event"] == "follow_up_check_in_sent" for e in v["timeline"]),
        tries=PATIENCE_TRIES,
    )
    answer = await api.post(f"/v1/pathways/{pathway_id}/follow-up", json=FOLLOW_UP)
    assert answer.status_code == 200, answer.text
    transcribed: set[str] = set()
    deadline = time.perf_counter() + OUTCOMES_TIMEOUT
    view: dict[str, Any] = answer.json()
    while view["status"] == "active":
        assert time.perf_counter() < deadline, f"still {view['stage']} after {OUTCOMES_TIMEOUT:.0f} s"
        for outcome in view["outcomes"]:
            if outcome["status"] == "open" and outcome["check_in"] not in transcribed:
                body = {"check_in": outcome["check_in"], **TRANSCRIBED}
                taken = await api.post(f"/v1/pathways/{pathway_id}/outcome-check-ins", json=body)
                if taken.status_code == 200:
                    transcribed.add(outcome["check_in"])
        await asyncio.sleep(POLL_SECONDS)
        read = await api.get(f"/v1/pathways/{pathway_id}")
        assert read.status_code == 200, read.text
        view = read.json()
    overridden = any(block["result"] != "positive" for block in view["blocks"])
    return Walked(time.perf_counter() - began, view["outcome"], len(transcribed), overridden)


Walk = Callable[[httpx.AsyncClient, str], Awaitable[Walked]]
"""A pathway walked from its referral (the id given) to its end."""


async def measure_batch(stack: BenchStack, pathways: int, tag: str, walk: Walk = walk_to_completion) -> Batch:
    """`pathways` walked at once; the batch's time is from the first referral to the last completion."""
    batch = Batch()
    meter = CpuMeter(stack_processes(stack))
    limits = httpx.Limits(max_connections=pathways, max_keepalive_connections=pathways)
    async with httpx.AsyncClient(
        base_url=stack.api_url, headers=stack.headers, timeout=120, limits=limits
    ) as api:

        async def one(n: int) -> None:
            try:
                batch.walked.append(await walk(api, f"E2E-{tag}-{n}"))
            except (AssertionError, httpx.HTTPError) as err:
                batch.failed.append(f"{type(err).__name__}: {err}"[:300])

        meter.start()
        began = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(pathways)))
        batch.elapsed = time.perf_counter() - began
        batch.cpu = meter.stop()
    return batch


async def measure(stack: BenchStack, *, pathways: int, repeats: int) -> list[Batch]:
    tag = run_tag()
    return [await measure_batch(stack, pathways, f"{tag}-{repeat}") for repeat in range(repeats)]


def add_rows(report: Report, server: str, batches: list[Batch], pathways: int) -> None:
    report.add(Row(f"{server}: pathways completed", "per minute", Spread.of([b.per_minute for b in batches])))
    report.add(
        Row(
            f"{server}: completed of {pathways}",
            "pathways",
            Spread.of([float(b.completed) for b in batches]),
            digits=0,
        )
    )
    walks = [b for b in batches if b.walked]
    if walks:
        report.add(
            Row(
                f"{server}: one pathway, referral to completed (median)",
                "s",
                Spread.of([statistics.median(w.seconds for w in b.walked) for b in walks]),
            )
        )
        report.add(
            Row(
                f"{server}: outcome check-ins transcribed (mean of 5)",
                "per pathway",
                Spread.of([statistics.mean(w.transcribed for w in b.walked) for b in walks]),
            )
        )
    report.add(
        Row(
            f"{server}: batch, first referral to last completion",
            "s",
            Spread.of([b.elapsed for b in batches]),
        )
    )
    parts = batches[0].cpu.keys()
    cpu = {part: statistics.median(b.cpu[part] for b in batches) for part in parts}
    for part in sorted(cpu, key=lambda p: -cpu[p]):
        report.add(
            Row(f"{server}: CPU {part}", "% of a core", Spread.of([b.cpu[part] for b in batches]), digits=0)
        )
    busiest = max((p for p in cpu if p != "bench"), key=lambda p: cpu[p])
    total = sum(cpu.values())
    report.notes.append(
        f"{server}: busiest part of the stack {busiest} at {cpu[busiest]:.0f}% of a core; all parts with the"
        f" driver {total:.0f}% of the machine's {100 * (os.cpu_count() or 1)}%"
    )
    overridden = sum(w.overridden for b in batches for w in b.walked)
    if overridden:
        report.notes.append(
            f"{server}: {overridden} walked pathways' blocks came out not positive (their diary reports"
            " arrived late) and were approved with an override reason"
        )
    failed = [f for b in batches for f in b.failed]
    if failed:
        report.notes.append(f"{server}: {len(failed)} walks failed (not completed); first: {failed[0]}")
    others = {w.outcome for b in batches for w in b.walked} - {"dvr_completed"}
    if others:
        report.notes.append(f"{server}: pathways that ended otherwise: {sorted(map(str, others))}")


async def main(pathways: int, repeats: int, servers: list[tuple[str, bool]]) -> Report:
    report = Report("end_to_end", "End to end: pathways completed per minute, demo profile, one worker")
    for server, in_memory in servers:
        try:
            async with local_stack(in_memory=in_memory) as stack:
                batches = await measure(stack, pathways=pathways, repeats=repeats)
        except Exception as err:  # the other server's figures are still worth printing
            report.notes.append(f"{server}: not measured: {type(err).__name__}: {err}"[:400])
            continue
        add_rows(report, server, batches, pathways)
    report.notes += [
        f"each repeat walks {pathways} pathways at once through the API (httpx, one connection per pathway),"
        " each from referral to `completed`: tests/integration/walk.py walk_to_follow_up (referral, MRI"
        " review, exam, block, positive pain diary, candidacy, procedure), then the follow-up and the five"
        " outcome check-ins transcribed while open; per minute = completed pathways / (first referral to last"
        " completion)",
        "a pathway spends ~60 s in the demo profile's own timers (5 s to the follow-up check-in, outcome"
        " check-ins 10 s apart, each open for 6 s), so completions per minute are bounded by pathways in"
        " flight / ~1.2 min until the stack saturates; the CPU rows name what saturates",
        "the walks poll each pathway's view (every 0.1 s while waiting for a step, walk.py; every 0.5 s"
        " during the outcome check-ins): the API's reads are part of the load, as with an upstream that"
        " polls",
        load_note(),
    ]
    return report


def cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pathways", type=int, default=100, help="pathways walked at once (100)")
    parser.add_argument("--repeats", type=int, default=REPEATS, help=f"repeats ({REPEATS})")
    parser.add_argument(
        "--server",
        choices=("file-backed", "in-memory", "both"),
        default="both",
        help="which dev server (both)",
    )
    args = parser.parse_args()
    servers = [(s, s == "in-memory") for s in ("file-backed", "in-memory") if args.server in (s, "both")]
    report = run_stoppable(main(args.pathways, args.repeats, servers))
    report.publish()


if __name__ == "__main__":
    cli()
