"""`python -m faults`: runs every scenario (or those named) against a fresh demo stack each, prints the table
and writes it to bench/results/faults.json. Exits 1 when a figure that must be 0 is not."""

import argparse
import sys

from bench.figures import Report, Row, Spread
from bench.stoppable import run_stoppable
from faults.checks import LATE_SECONDS, Outcome
from faults.rig import keep_logs, rig
from faults.scenarios import SCENARIOS, Options, refusals


async def run(names: list[str], options: Options) -> tuple[list[Outcome], list[str]]:
    """The outcome of each scenario that ran to its end, and why each other one did not."""
    outcomes, failed = [], []
    for name in names:
        scenario, own_postgres = SCENARIOS[name]
        if refused := refusals([name], options):  # before any stack is started for it
            failed.append(f"{name} did not run: {'; '.join(refused)}")
            continue
        print(f"running {name} ({options.pathways} pathways)...", flush=True)
        try:
            async with rig(own_postgres=own_postgres) as setup:
                outcome = await scenario(setup, options)
                if not outcome.fault_met:
                    outcome.notes.append("the fault did not take effect: its zeros say nothing")
                if not outcome.clean:
                    outcome.notes.append(f"the stack's output is kept in {keep_logs(setup.data_dir)}")
                outcomes.append(outcome)
        except Exception as err:  # one scenario that could not run leaves the others to run
            failed.append(f"{name} did not run to its end: {type(err).__name__}: {str(err)[:300]}")
            print(failed[-1], file=sys.stderr, flush=True)
    return outcomes, failed


def report(outcomes: list[Outcome], options: Options) -> Report:
    table = Report("faults", "Fault suite: nothing lost or done twice")
    for o in outcomes:
        for figure, unit, value, goal in (
            ("pathways lost", "pathways", o.lost, "0"),
            (f"pathways late (a wait over {LATE_SECONDS:g} s)", "pathways", o.late, ""),
            ("messages sent twice", "messages", o.sent_twice, "0"),
            ("messages recorded as sent, never sent", "messages", o.recorded_unsent, "0"),
            ("double bookings", "appointments", o.double_bookings, "0"),
            ("client-visible 5xx other than 503", "answers", o.server_errors, "0"),
            ("messages still being tried when counted", "messages", o.unsettled, "0"),
            ("time to recover", "s", o.recovery_seconds, ""),
        ):
            digits = 1 if unit == "s" else 0
            met = (value == 0) if goal == "0" else None
            table.add(Row(f"{o.scenario}: {figure}", unit, Spread.of([value]), goal, met, digits))
        extras = [
            f"{o.retried} answers 503 or failed connections retried",
            f"{o.undelivered} messages given up on",
            f"{o.protocol_copies} e-mails kept again under the same Message-ID after a reset before the"
            " server's answer (SMTP cannot be asked)",
        ]
        table.notes.append(f"{o.scenario}: {o.pathways} pathways; " + "; ".join(extras + o.notes))
    table.notes += [
        "one run per scenario (the median, min and max are that run); time to recover: from the fault's end"
        " (or the kill) to /readyz 200 and the first step sent after it accepted",
        f"settings: --pathways {options.pathways} --pg-outage-seconds {options.pg_outage_seconds:g}",
    ]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__)
    parser.add_argument("--pathways", type=int, default=Options.pathways, help="pathways per scenario")
    parser.add_argument(
        "--pg-outage-seconds",
        type=float,
        default=Options.pg_outage_seconds,
        help="how long PostgreSQL is away",
    )
    parser.add_argument("scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)}; default: all")
    args = parser.parse_args()
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"no scenario {', '.join(unknown)}; there are {', '.join(SCENARIOS)}")
    options = Options(pathways=args.pathways, pg_outage_seconds=args.pg_outage_seconds)
    names = args.scenarios or list(SCENARIOS)
    if refused := refusals(names, options):
        parser.error("; ".join(refused))
    outcomes, failed = run_stoppable(run(names, options))
    table = report(outcomes, options)
    table.notes += failed
    table.publish()
    sys.exit(0 if all(o.clean for o in outcomes) and not failed else 1)


if __name__ == "__main__":
    main()
