"""The scenarios: each drives a cohort of synthetic pathways through the API, injects its fault at a moment
chosen on the pathways' progress (not on time), lets the stack recover, takes the pathways on to the
candidacy decision, then measures (faults/checks.py)."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from faults.api import ApiClient
from faults.checks import Outcome, measure
from faults.pathways import Pathway, book_to_relief_check, cohort, diary_to_candidacy, guarded, refer
from faults.rig import Rig

EXPECTED_STAGE = "candidacy"
PROGRESS_TIMEOUT = 120.0
SMS_FAULTS = ("500", "reset", "500", "slow", "500", "reset")
"""What the gateway does with its next creates before it takes them again: 5xx (nothing taken), the message
taken and the connection reset before the answer, no answer within the provider's timeout."""
EMAIL_FAULTS = ("421", "reset-before-answer", "554", "reset-after-answer", "slow", "421")
"""What the SMTP server does with its next messages (faults/receivers.py SMTP_FAULTS)."""


@dataclass(frozen=True)
class Options:
    pathways: int = 10
    pg_outage_seconds: float = 30.0
    sms_faults: tuple[str, ...] = SMS_FAULTS
    email_faults: tuple[str, ...] = EMAIL_FAULTS


Scenario = Callable[[Rig, Options], Awaitable[Outcome]]


async def until_progress(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PROGRESS_TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the pathways never reached {what}")
        await asyncio.sleep(0.05)


def reached(pathways: list[Pathway], what: str, count: int) -> Callable[[], bool]:
    return lambda: sum(what in p.reached or p.stuck is not None for p in pathways) >= count


async def each(pathways: list[Pathway], drive: Callable[[Pathway], Awaitable[None]]) -> None:
    """Runs `drive` on every pathway not stuck yet, together."""
    await asyncio.gather(*(guarded(p, drive) for p in pathways if p.stuck is None))


async def booking_then_diary(
    rig: Rig,
    api: ApiClient,
    pathways: list[Pathway],
    fault: Callable[[], Awaitable[float]],
    *,
    during_diary: bool = False,
) -> tuple[float, float]:
    """Refers the cohort, then books and records to the relief check and runs the diary to candidacy; `fault`
    is injected once half the cohort has had its MRI review recorded (bookings under way), or its first pain
    report (`during_diary`). Returns (fault end, recovered), monotonic."""
    half = max(1, len(pathways) // 2)
    await each(pathways, lambda p: refer(api, p))

    async def full(p: Pathway) -> None:
        await book_to_relief_check(api, p)
        if not during_diary:
            await diary_to_candidacy(api, p)

    drivers = asyncio.ensure_future(each(pathways, full))
    if during_diary:
        await drivers
        drivers = asyncio.ensure_future(each(pathways, lambda p: diary_to_candidacy(api, p)))
        await until_progress("their first pain report", reached(pathways, "pain-reports", half))
    else:
        await until_progress("their MRI reviews", reached(pathways, "mri-review", half))
    fault_end = await fault()
    ready_at = await rig.until_ready(api)
    await drivers
    accepted = api.first_accepted_after(fault_end)
    return fault_end, max(ready_at, accepted or ready_at)


async def worker_killed_mid_booking(rig: Rig, options: Options) -> Outcome:
    return await _worker_killed(rig, options, "worker SIGKILL mid-booking", during_diary=False)


async def worker_killed_mid_diary(rig: Rig, options: Options) -> Outcome:
    return await _worker_killed(rig, options, "worker SIGKILL mid-diary", during_diary=True)


async def _worker_killed(rig: Rig, options: Options, name: str, *, during_diary: bool) -> Outcome:
    pathways = cohort("worker-diary" if during_diary else "worker-booking", options.pathways)
    async with rig.api() as api:
        before = rig.worker_pid()
        end, recovered = await booking_then_diary(
            rig, api, pathways, rig.kill_worker, during_diary=during_diary
        )
        restarted = rig.worker_pid() != before
        outcome = await measure(rig, api, name, pathways, EXPECTED_STAGE, recovered - end)
    outcome.notes.append(f"the supervisor started a new worker: {'yes' if restarted else 'NO'}")
    outcome.fault_met = restarted
    return outcome


async def stack_killed(rig: Rig, options: Options) -> Outcome:
    pathways = cohort("stack", options.pathways)

    async def kill_and_start_again() -> float:
        killed_at = await rig.kill_stack()
        await rig.launch()
        return killed_at

    async with rig.api() as api:
        launches = rig.launches
        end, recovered = await booking_then_diary(rig, api, pathways, kill_and_start_again)
        outcome = await measure(rig, api, "whole stack SIGKILL", pathways, EXPECTED_STAGE, recovered - end)
    restarted = rig.launches > launches  # the kill waits for every child of the old stack to be gone
    outcome.notes.append(f"the stack was killed and started again: {'yes' if restarted else 'NO'}")
    outcome.fault_met = restarted
    return outcome


async def postgres_outage(rig: Rig, options: Options) -> Outcome:
    pathways = cohort("postgres", options.pathways)
    proxy = rig.proxy
    assert proxy is not None, "the scenario needs the stack on the suite's own PostgreSQL"

    async def outage() -> float:
        await proxy.outage()
        await asyncio.sleep(options.pg_outage_seconds)
        await proxy.restore()
        return time.monotonic()

    name = f"PostgreSQL down {options.pg_outage_seconds:g} s"
    async with rig.api() as api:
        end, recovered = await booking_then_diary(rig, api, pathways, outage)
        outcome = await measure(rig, api, name, pathways, EXPECTED_STAGE, recovered - end)
    outcome.notes.append(f"connections the outage cut: {proxy.cut}")
    outcome.fault_met = proxy.cut > 0
    return outcome


async def providers_failing(rig: Rig, options: Options) -> Outcome:
    """The gateway and the SMTP server fail their next messages (SMS_FAULTS, EMAIL_FAULTS) from the first
    booking on; the fault ends when the last scheduled failure has been met."""
    if refused := refusals(["providers-failing"], options):
        raise ValueError("; ".join(refused))  # else it would wait out PROGRESS_TIMEOUT for failures never met
    pathways = cohort("providers", options.pathways)
    gateway, mailbox = rig.gateway, rig.smtp.mailbox

    async def failing() -> float:
        gateway.faults[:] = options.sms_faults
        mailbox.faults[:] = options.email_faults
        await until_progress("every scheduled failure", lambda: not gateway.faults)
        await until_progress("every scheduled failure", lambda: not mailbox.pending_faults())
        return time.monotonic()

    async with rig.api() as api:
        end, recovered = await booking_then_diary(rig, api, pathways, failing)
        outcome = await measure(
            rig, api, "SMS gateway + SMTP failing", pathways, EXPECTED_STAGE, recovered - end
        )
    sms, email = options.sms_faults, options.email_faults
    outcome.fault_met = not gateway.faults and not mailbox.pending_faults()
    outcome.notes.append(
        f"faults met: SMS {len(sms) - len(gateway.faults)} of {len(sms)} ({', '.join(sms)}),"
        f" e-mail {len(email) - mailbox.pending_faults()} of {len(email)} ({', '.join(email)})"
    )
    return outcome


SCENARIOS: dict[str, tuple[Scenario, bool]] = {
    "worker-booking": (worker_killed_mid_booking, False),
    "worker-diary": (worker_killed_mid_diary, False),
    "stack-killed": (stack_killed, False),
    "postgres-down": (postgres_outage, True),
    "providers-failing": (providers_failing, False),
}
"""Each scenario, and whether it needs the stack on the suite's own PostgreSQL behind the proxy."""

FEWEST_PATHWAYS: dict[str, tuple[int, str]] = {
    "providers-failing": (2, "a patient by SMS and one by e-mail, to meet both providers' failures"),
}
"""Scenarios that need more than one pathway, and why. faults/pathways.py `cohort` alternates the patients'
channels, so one patient meets only one provider's failures and the scenario would wait for the others."""


def refusals(names: list[str], options: Options) -> list[str]:
    """Why these scenarios cannot run with these options (empty: they can)."""
    if options.pathways < 1:
        found = [f"--pathways must be at least 1, not {options.pathways}"]
    else:
        found = [
            f"{name} needs --pathways {fewest} or more ({why}); name the other scenarios to run them with"
            f" {options.pathways}"
            for name in dict.fromkeys(names)  # each once, in order
            for fewest, why in [FEWEST_PATHWAYS.get(name, (1, ""))]
            if options.pathways < fewest
        ]
    if "postgres-down" in names and options.pg_outage_seconds <= 0:
        found.append(f"--pg-outage-seconds must be more than 0, not {options.pg_outage_seconds:g}")
    return found
