"""`python -m sim`: a simulated clinic month on a demo-profile stack of its own (bench/stack.py), its table
printed and written to bench/results/sim.json. Exits 1 when a pathway was stuck past a deadline unflagged, a
message went twice, or the API answered 5xx (other than a 503 to retry)."""

import argparse
import asyncio
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import httpx

from bench.stack import BenchStack, local_stack
from bench.stoppable import run_stoppable
from config.database import database_url
from sim.behaviours import MIX, plans
from sim.clinic import Clinic
from sim.observer import Observer
from sim.patient import SITE, Patient, Run
from sim.report import Month, messages_of, table, tabulate, write

SMS_TOKEN = "sim-gateway-token"
PUBLIC_URL = "http://sim.clinic.invalid"
"""What the stack believes the gateway calls: the signature covers it; the requests go to the real port."""


def stack_settings() -> dict[str, str]:
    """The stack's settings for a simulation: an SMS gateway's token, so that patients can text."""
    return {"DVR_TWILIO_AUTH_TOKEN": SMS_TOKEN, "DVR_PUBLIC_URL": PUBLIC_URL}


@dataclass(frozen=True)
class Options:
    patients: int = 200
    seed: int = 1
    concurrency: int = 50
    """Patients on the pathway at once: a new referral arrives as a pathway ends."""
    poll_seconds: float = 1.5
    grace_seconds: float = 15.0
    """How long past its due time a pathway may go unflagged and unmoved (the worker's lag under load)."""
    deadline: str = "PT6H"
    """Every clinician deadline of the clinic's policy (ISO 8601, clinical time: PT6H is 30 s in the demo)."""
    give_up_after_seconds: float = 900.0


async def simulate(stack: BenchStack, options: Options) -> tuple[Month, Observer]:
    """Runs the month on `stack`: its table's figures, and the watcher with each pathway's record."""
    limits = httpx.Limits(max_connections=options.concurrency + 10)
    async with (
        httpx.AsyncClient(base_url=stack.api_url, headers=stack.headers, timeout=60, limits=limits) as api,
        asyncpg.create_pool(database_url(stack.settings), min_size=1, max_size=4) as db,
    ):
        clinic = Clinic(api, db, SMS_TOKEN, PUBLIC_URL)
        deadlines = ("mri_review_due", "exam_result_due", "block_record_due", "candidacy_decision_due")
        policy = {name: options.deadline for name in (*deadlines, "procedure_record_due")}
        answer = await api.put(f"/v1/clinics/{SITE}/policy", json=policy | {"quiet_hours": None})
        assert answer.status_code == 200, answer.text
        observer = Observer(timedelta(seconds=options.grace_seconds))
        grace = options.grace_seconds
        run = Run(
            clinic,
            observer,
            options.poll_seconds,
            timedelta(seconds=options.give_up_after_seconds),
            lateness=(0.2 * grace, 2.0 * grace),  # late clinicians within the grace and well past it
        )
        gate = asyncio.Semaphore(options.concurrency)
        run_id = f"{options.seed}-{uuid.uuid4().hex[:6]}"

        async def one(patient: Patient) -> None:
            async with gate:
                patient.final = await patient.walk(run_id)

        patients = [Patient(plan, run) for plan in plans(options.patients, options.seed)]
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(one(p) for p in patients))
        seconds = asyncio.get_running_loop().time() - started
        observer.close_open_waits()
        finals = {p.pathway_id or f"unreferred-{p.plan.index}": p.final for p in patients}
        month = Month(options.patients, options.seed, seconds, finals)
        stack_log = stack.stack.output.read_text("utf-8", "replace")
        messages = await messages_of(db, [p.pathway_id for p in patients if p.pathway_id], stack_log)
        tabulate(month, observer, clinic, messages)
    mix = ", ".join(f"{name} {p:.0%}" for name, p in MIX.items())
    month.notes += [
        f"demo profile; clinician deadlines {options.deadline} (clinical),"
        f" grace {options.grace_seconds:.0f} s, {options.concurrency} patients at once,"
        f" views polled every ~{options.poll_seconds} s",
        f"mix: {mix}",
    ]
    return month, observer


def failed(month: Month) -> bool:
    return any(line.met is False for line in month.lines)


STARTS = 3
"""Tries at starting the stack: on a loaded machine its banner may take longer than the harness waits."""


async def main(options: Options) -> int:
    for start in range(1, STARTS + 1):
        try:
            month = await run_on_own_stack(options)
            break
        except StackDidNotStart:
            print(f"the stack did not start (try {start} of {STARTS})", file=sys.stderr)
    else:
        return 2
    print(table(month))
    print(f"\n(written to {write(month)})")
    return 1 if failed(month) else 0


class StackDidNotStart(Exception):
    pass


async def run_on_own_stack(options: Options) -> Month:
    started = False
    try:
        async with local_stack(in_memory=False, **stack_settings()) as stack:
            started = True
            month, _ = await simulate(stack, options)
    except AssertionError as err:
        if started:
            raise
        raise StackDidNotStart() from err
    return month


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m sim", description=__doc__)
    defaults = Options()
    parser.add_argument("--patients", type=int, default=defaults.patients)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency, help="patients at once")
    parser.add_argument("--poll", type=float, default=defaults.poll_seconds, help="seconds between reads")
    parser.add_argument("--grace", type=float, default=defaults.grace_seconds, help="seconds past a due time")
    parser.add_argument("--deadline", default=defaults.deadline, help="clinician deadlines (ISO 8601)")
    parser.add_argument(
        "--give-up", type=float, default=defaults.give_up_after_seconds, help="seconds a patient is followed"
    )
    args = parser.parse_args(argv)
    return Options(
        args.patients, args.seed, args.concurrency, args.poll, args.grace, args.deadline, args.give_up
    )


if __name__ == "__main__":
    sys.exit(run_stoppable(main(parse(sys.argv[1:]))))
