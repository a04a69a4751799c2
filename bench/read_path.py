"""Read path: `GET /v1/pathways/{id}` against a raw query of the same workflows, and
`GET /v1/pathways?stage=mri` against a raw visibility list with the query the API builds, on the same server,
side by side in each repeat, with open pathways waiting at their MRI review.

    python -m bench.read_path [--pathways 200] [--clients 50] [--seconds 20] [--repeats 3] [--server both]
"""

import argparse
import statistics
from dataclasses import dataclass, field

from temporalio.client import Client

from bench.figures import REPEATS, Report, Row, Spread
from bench.load import Operation, Run, run_count, run_for
from bench.pathways import (
    AT_MRI_REVIEW,
    CpuMeter,
    Refused,
    api_session,
    cpu_note,
    load_note,
    read_pathway,
    refer,
    run_tag,
    stack_processes,
    until_count,
)
from bench.stack import BenchStack, local_stack
from bench.stoppable import run_stoppable
from workflows.pathway import PatientPathwayWorkflow

GOAL_RATIO = 0.9
GOAL_P99_MS = 50.0
PAGE_SIZE = 50  # the API's default page
FLOOR = "API floor"
KINDS = ("API get", "raw query", "API list", "raw list", FLOOR)


@dataclass
class ReadRepeat:
    runs: dict[str, Run] = field(default_factory=dict)
    cpu: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per kind of run, the CPU % of one core each part of the stack used during it."""


async def open_pathways(
    stack: BenchStack, count: int, *, concurrency: int = 20, timeout: float = 600
) -> list[str]:
    """Starts `count` pathways through the API and waits until visibility shows them all at the MRI review."""
    client = await stack.temporal()
    tag = run_tag()
    before = (await client.count_workflows(AT_MRI_REVIEW)).count
    ids: list[str] = []

    async def start(n: int) -> None:
        ids.append(await refer(session, f"READ-{tag}-{n}"))

    async with api_session(stack, concurrency) as session:
        run = await run_count(count, concurrency, start)
    if run.errors:
        raise Refused(f"{run.errors} of {count} referrals failed; first: {run.first_error}")
    await until_count(client, AT_MRI_REVIEW, before + count, timeout=timeout)
    return ids


async def measure_reads(
    stack: BenchStack, pathway_ids: list[str], *, clients: int, seconds: float, repeats: int
) -> list[ReadRepeat]:
    """`repeats` times, each of the four reads for `seconds` with `clients` clients, API and raw alternating
    which goes first."""
    client = await stack.temporal()
    meter = CpuMeter(stack_processes(stack))
    figures: list[ReadRepeat] = []
    async with api_session(stack, clients) as session:

        async def api_get(n: int) -> None:
            await read_pathway(session, pathway_ids[n % len(pathway_ids)])

        async def raw_query(n: int) -> None:
            await _query(client, pathway_ids[n % len(pathway_ids)])

        async def api_list(n: int) -> None:
            async with session.get("/v1/pathways", params={"stage": "mri"}) as answer:
                await answer.read()
                if answer.status != 200:
                    raise Refused(f"GET /v1/pathways?stage=mri answered {answer.status}")

        async def raw_list(n: int) -> None:
            await _list(client)

        async def api_floor(n: int) -> None:
            async with session.get("/healthz") as answer:
                await answer.read()
                if answer.status != 200:
                    raise Refused(f"GET /healthz answered {answer.status}")

        operations: dict[str, Operation] = {
            "API get": api_get,
            "raw query": raw_query,
            "API list": api_list,
            "raw list": raw_list,
            FLOOR: api_floor,
        }
        # One of each first, so that no run pays for connections or a first page.
        for operation in operations.values():
            await operation(0)
        for repeat in range(repeats):
            figure = ReadRepeat()
            pairs = (("API get", "raw query"), ("API list", "raw list"), (FLOOR,))
            for pair in pairs:
                for kind in pair if repeat % 2 == 0 else reversed(pair):
                    meter.start()
                    figure.runs[kind] = await run_for(seconds, clients, operations[kind])
                    figure.cpu[kind] = meter.stop()
            figures.append(figure)
    return figures


async def _query(client: Client, pathway_id: str) -> None:
    handle = client.get_workflow_handle(pathway_id)
    await handle.query(PatientPathwayWorkflow.view)


async def _list(client: Client) -> None:
    executions = client.list_workflows(AT_MRI_REVIEW, page_size=PAGE_SIZE)
    await executions.fetch_next_page(page_size=PAGE_SIZE)


def add_rows(report: Report, server: str, figures: list[ReadRepeat]) -> None:
    for api, raw in (("API get", "raw query"), ("API list", "raw list")):
        ratio = Spread.of([f.runs[api].rate / f.runs[raw].rate if f.runs[raw].rate else 0.0 for f in figures])
        for kind in (api, raw):
            runs = [f.runs[kind] for f in figures]
            report.add(Row(f"{server}: {kind}", "req/s", Spread.of([r.rate for r in runs])))
        report.add(
            Row(
                f"{server}: {api} / {raw}",
                "ratio",
                ratio,
                goal=f">= {GOAL_RATIO}",
                met=ratio.median >= GOAL_RATIO,
                digits=2,
            )
        )
        for kind in (api, raw):
            runs = [f.runs[kind] for f in figures]
            p99 = Spread.of([r.latency.p99_ms for r in runs])
            report.add(Row(f"{server}: {kind} p50", "ms", Spread.of([r.latency.p50_ms for r in runs])))
            if kind == api:
                report.add(
                    Row(
                        f"{server}: {kind} p99",
                        "ms",
                        p99,
                        goal=f"< {GOAL_P99_MS:.0f}",
                        met=p99.median < GOAL_P99_MS,
                    )
                )
            else:
                report.add(Row(f"{server}: {kind} p99", "ms", p99))
    floor = [f.runs[FLOOR] for f in figures]
    report.add(Row(f"{server}: {FLOOR} (GET /healthz)", "req/s", Spread.of([r.rate for r in floor])))
    report.add(Row(f"{server}: {FLOOR} p50", "ms", Spread.of([r.latency.p50_ms for r in floor])))
    report.add(Row(f"{server}: {FLOOR} p99", "ms", Spread.of([r.latency.p99_ms for r in floor])))
    for kind in KINDS:
        parts = figures[0].cpu[kind].keys()
        cpu = {part: statistics.median(f.cpu[kind][part] for f in figures) for part in parts}
        report.notes.append(f"{server}: {cpu_note(f'{kind}, median of the repeats', cpu)}")
    for kind in KINDS:
        errors = sum(f.runs[kind].errors for f in figures)
        if errors:
            first = next(f.runs[kind].first_error for f in figures if f.runs[kind].errors)
            report.notes.append(f"{server}: {errors} {kind} requests failed (not counted); first: {first}")


async def main(
    pathways: int, clients: int, seconds: float, repeats: int, servers: list[tuple[str, bool]]
) -> Report:
    report = Report("read_path", "Read path: the API's reads vs raw Temporal reads, same server")
    for server, in_memory in servers:
        try:
            async with local_stack(in_memory=in_memory) as stack:
                ids = await open_pathways(stack, pathways)
                figures = await measure_reads(stack, ids, clients=clients, seconds=seconds, repeats=repeats)
        except Exception as err:  # the other server's figures are still worth printing
            report.notes.append(f"{server}: not measured: {type(err).__name__}: {err}"[:400])
            continue
        add_rows(report, server, figures)
    report.notes += [
        f"{pathways} open pathways, each waiting at its MRI review (started through the API first);"
        f" {clients} concurrent clients for {seconds:g} s per run, each sending its next request when the"
        " last answered;"
        f" {repeats} repeats, API and raw alternating which runs first",
        "API get: GET /v1/pathways/{id} over the open pathways in turn; raw query: the pathway's `view` query"
        " (PatientPathwayWorkflow.view, what api/views.py reads at this stage) on the same workflows",
        f"API list: GET /v1/pathways?stage=mri (its default page, {PAGE_SIZE}); raw list:"
        f" client.list_workflows with the query the API builds ({AT_MRI_REVIEW}), one page of {PAGE_SIZE}",
        f"{FLOOR}: GET /healthz, which reads nothing, with the same clients: what the HTTP stack and the load"
        f" generator alone reach on this machine. {clients} clients each waiting for its answer make a p99"
        f" under {GOAL_P99_MS:.0f} ms need at least {clients * 1000 / GOAL_P99_MS:.0f} answers a second",
        "the load generator (aiohttp for the API, the Temporal client for raw) runs on the same machine",
        load_note(),
    ]
    return report


def cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pathways", type=int, default=200, help="open pathways (200)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per run (20)")
    parser.add_argument("--repeats", type=int, default=REPEATS, help=f"repeats ({REPEATS})")
    parser.add_argument(
        "--server",
        choices=("file-backed", "in-memory", "both"),
        default="file-backed",
        help="which dev server (file-backed: the issue's figure)",
    )
    args = parser.parse_args()
    servers = [(s, s == "in-memory") for s in ("file-backed", "in-memory") if args.server in (s, "both")]
    report = run_stoppable(main(args.pathways, args.clients, args.seconds, args.repeats, servers))
    report.publish()


if __name__ == "__main__":
    cli()
