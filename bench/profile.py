"""Where the time goes: py-spy samples the API and the worker while the stack serves a steady load, and the
samples are summed by function and by package (bench/samples.py).

    python -m bench.profile [--load starts reads] [--seconds 20] [--server in-memory]

`starts`: referrals through the API, 20 at a time (what bench.start_rate measures). `reads`:
`GET /v1/pathways/{id}` over 200 open pathways, 50 clients (what bench.read_path measures). For each part it
prints its CPU (% of one core, and milliseconds a request), the project's functions by the share of the
part's samples they were on the stack for, and the packages by the share they ran their own code for. The
samples are sampled without pausing the process (`--nonblocking`): a part runs as it would unobserved. The raw
samples are kept in bench/results/profile-<load>-<part>.txt (flamegraph.pl reads them).
"""

import argparse
import asyncio
import json
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from itertools import zip_longest
from pathlib import Path

from bench.figures import RESULTS, machine
from bench.load import Operation, run_until
from bench.pathways import (
    CpuMeter,
    Refused,
    api_session,
    load_note,
    read_pathway,
    refer,
    run_tag,
    stack_processes,
)
from bench.read_path import open_pathways
from bench.samples import Share, read_samples
from bench.stack import BenchStack, local_stack
from bench.stoppable import run_stoppable

PARTS = ("api", "worker")
RATE = 200
"""Samples a second: dense enough for a 20 s profile to show a function at 1 %, light on the machine."""
WARM_UP = 5.0
"""Seconds of load before sampling starts: connections open, the worker's cache and pools filled."""
TOP = 15


@dataclass(frozen=True)
class PartProfile:
    part: str
    cpu_percent: float
    """Of one core, from the process's CPU times while it was sampled."""
    cpu_ms_per_request: float
    samples: int
    own: list[Share]
    packages: list[Share]


@dataclass(frozen=True)
class LoadProfile:
    load: str
    requests_per_second: float
    parts: list[PartProfile]


class ProfilerError(Exception):
    """py-spy is not installed, or could not sample a process (it needs the right to trace it: the same
    user, and on a system with Yama's `ptrace_scope` above 0, root or CAP_SYS_PTRACE)."""


def py_spy() -> str:
    """The py-spy of this venv (a dev dependency), else one on the PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise ProfilerError("py-spy is not installed: `make test` installs it into .venv")
    return found


async def profile_load(
    stack: BenchStack,
    load: str,
    operation: Operation,
    clients: int,
    seconds: float,
    directory: Path,
    warm_up: float = WARM_UP,
) -> LoadProfile:
    """Runs `operation` from `clients` clients; after `warm_up` seconds, samples each part for `seconds`, the
    raw samples written to `directory` (an existing folder)."""
    processes = stack_processes(stack)
    finished = 0
    stop = asyncio.Event()

    async def counted(number: int) -> None:
        nonlocal finished
        await operation(number)
        finished += 1

    running = asyncio.create_task(run_until(stop, clients, counted))
    raw = {part: directory / f"profile-{load}-{part}.txt" for part in PARTS}
    spies: list[asyncio.subprocess.Process] = []
    try:
        await asyncio.sleep(warm_up)
        for part in PARTS:
            spies.append(
                await asyncio.create_subprocess_exec(
                    *(py_spy(), "record", "--pid", str(processes[part].pid), "--rate", str(RATE)),
                    *("--nonblocking", "--duration", str(max(1, round(seconds))), "--format", "raw"),
                    *("--output", str(raw[part])),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                )
            )
        meter = CpuMeter({part: processes[part] for part in PARTS})
        meter.start()
        finished_before, began = finished, time.perf_counter()
        # The load runs until both samplers are done, so the window measured is the window sampled; one
        # that cannot attach exits at once (both do, as they run with the same rights).
        spy_stderr = [stderr for _, stderr in await asyncio.gather(*(spy.communicate() for spy in spies))]
        cpu = meter.stop()
        elapsed, requests = time.perf_counter() - began, finished - finished_before
    finally:
        stop.set()
        for spy in spies:
            if spy.returncode is None:
                spy.kill()
                await spy.wait()
        run = await running
    for spy, stderr in zip(spies, spy_stderr, strict=True):
        if spy.returncode != 0:
            raise ProfilerError(f"py-spy could not sample: {stderr.decode(errors='replace').strip()[-300:]}")
    if run.errors:
        raise Refused(f"{run.errors} {load} requests failed; first: {run.first_error}")
    if requests == 0:
        raise Refused(f"no {load} request was answered while the stack was sampled")
    parts = []
    for part in PARTS:
        samples = read_samples(raw[part].read_text())
        parts.append(
            PartProfile(
                part,
                cpu_percent=cpu[part],
                cpu_ms_per_request=10 * cpu[part] * elapsed / requests,
                samples=samples.total,
                own=samples.top_own(TOP),
                packages=samples.top_packages(TOP),
            )
        )
    return LoadProfile(load, requests / elapsed, parts)


async def starts(
    stack: BenchStack, seconds: float, directory: Path = RESULTS, warm_up: float = WARM_UP
) -> LoadProfile:
    tag = run_tag()
    async with api_session(stack, 20) as session:

        async def refer_one(number: int) -> None:
            await refer(session, f"PROFILE-{tag}-{number}")

        return await profile_load(stack, "starts", refer_one, 20, seconds, directory, warm_up)


async def reads(
    stack: BenchStack, seconds: float, directory: Path = RESULTS, warm_up: float = WARM_UP
) -> LoadProfile:
    ids = await open_pathways(stack, 200)
    async with api_session(stack, 50) as session:

        async def read_one(number: int) -> None:
            await read_pathway(session, ids[number % len(ids)])

        return await profile_load(stack, "reads", read_one, 50, seconds, directory, warm_up)


LOADS: dict[str, Callable[[BenchStack, float], Awaitable[LoadProfile]]] = {"starts": starts, "reads": reads}


async def main(loads: list[str], seconds: float, in_memory: bool) -> list[LoadProfile]:
    py_spy()  # before a stack is started for nothing
    profiles = []
    for load in loads:
        async with local_stack(in_memory=in_memory) as stack:
            profiles.append(await LOADS[load](stack, seconds))
    return profiles


def show(profiles: list[LoadProfile], server: str) -> str:
    out = []
    for profile in profiles:
        out.append(f"## {profile.load}: {profile.requests_per_second:.1f} requests/s ({server} dev server)")
        for part in profile.parts:
            out += [
                "",
                f"### {part.part}: {part.cpu_percent:.0f} % of a core,"
                f" {part.cpu_ms_per_request:.1f} ms of CPU a request ({part.samples} samples)",
                "",
                "| on the stack (inclusive) | % | running its own code, by package | % |",
                "|---|---|---|---|",
            ]
            for own, package in zip_longest(part.own, part.packages):
                out.append(f"| {_cells(own)} | {_cells(package)} |")
        out.append("")
    out.append(f"- {load_note()}")
    return "\n".join(out)


def _cells(share: Share | None) -> str:
    """A share's name and percent as two table cells; two empty ones where one list ran out first."""
    return " | " if share is None else f"{share.name or '(unnamed)'} | {share.percent:.1f}"


def _whole_seconds(text: str) -> int:
    """py-spy samples for whole seconds."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds, 1 or more")
    return int(text)


def cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--load", nargs="+", choices=tuple(LOADS), default=list(LOADS))
    parser.add_argument("--seconds", type=_whole_seconds, default=20, help="seconds sampled, 1 or more (20)")
    parser.add_argument(
        "--server",
        choices=("file-backed", "in-memory"),
        default="in-memory",
        help="which dev server (in-memory: less of the machine goes to the server's own writes)",
    )
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    try:
        profiles = run_stoppable(main(args.load, args.seconds, args.server == "in-memory"))
    except (ProfilerError, Refused) as err:
        sys.exit(f"bench.profile: {err}")
    print(show(profiles, args.server))
    path = RESULTS / "profile.json"
    document = {"machine": machine(), "server": args.server, "profiles": [asdict(p) for p in profiles]}
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\n(written to {path})")


if __name__ == "__main__":
    cli()
