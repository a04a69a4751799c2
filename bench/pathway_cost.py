"""Pathway cost: history events, workflow tasks and history bytes of a whole pathway (the pathway and every
run of its children) against the minimal workflow with the same activities and timers
(bench/minimal_shape.py).

Two shapes: a typical pathway (one positive block, the DVR, the follow-up and every outcome check-in answered)
and the longest one (tests/workflows/test_history_shape.py: comparative blocks with both diaries run out, the
follow-up and every outcome check-in unanswered and called about). Each runs on a fresh time-skipping test
server with the workflow tests' worker and fake clinic; the figures are counts. The workflow tasks that only
carried one of the driver's reads are left out, and counted on a row of their own (bench/query_tasks.py):
they are what reading costs, and vary with when the reads land.

    python -m bench.pathway_cost [--repeats 3]
"""

import argparse
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.figures import REPEATS, Report, Row, Spread
from bench.history_cost import Cost, whole_cost
from bench.history_features import FEATURES, REST, SUMMARIES
from bench.minimal_shape import TASK_QUEUE as MINIMAL_QUEUE
from bench.minimal_shape import MinimalShapeWorkflow, minimal_step
from bench.pathway_shapes import longest, referral, typical
from bench.stoppable import run_stoppable
from config.binaries import installed_binary
from config.temporal import register_search_attributes
from domain.config import CLINICAL, PathwayConfig
from domain.inputs import PathwayInput
from tests.codec_keys import TEST_DATA_CONVERTER
from tests.workflows.clinic_worker import ClinicWorker
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver

EVENTS_BOUND = 300  # per workflow execution
RATIO_GOAL = 1.5  # the whole pathway's workflow tasks and bytes against the minimal shape's


Shape = Callable[[PathwayDriver], Awaitable[object]]


@dataclass(frozen=True)
class Measured:
    full: Cost
    minimal: Cost


async def measure(shape: Shape, *, config: PathwayConfig = CLINICAL, webhook_events: bool = True) -> Measured:
    """Measures `shape` on a fresh time-skipping server (its clock starts anew)."""
    env = await time_skipping_server()
    try:
        return await measure_on(env, shape, config=config, webhook_events=webhook_events)
    finally:
        await env.shutdown()


async def time_skipping_server() -> WorkflowEnvironment:
    """The workflow tests' server: time-skipping, with their codec and the search attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=installed_binary("temporal-test-server"), data_converter=TEST_DATA_CONVERTER
    )
    await register_search_attributes(env.client)
    return env


async def measure_on(
    env: WorkflowEnvironment, shape: Shape, *, config: PathwayConfig = CLINICAL, webhook_events: bool = True
) -> Measured:
    """Drives one pathway of `shape` to its end with the workflow tests' worker and fake clinic, then runs the
    minimal shape of the same activities and timers on that server; both histories counted."""
    worker = ClinicWorker(env, FakeClinic())
    await worker.start()
    try:
        pathway = await PathwayDriver.start(
            env,
            worker.clinic,
            PathwayInput(
                patient_ref=str(uuid.uuid4()),
                clinic_site="phoenix-main",
                clinic_timezone="America/Phoenix",
                patient_timezone="America/Phoenix",
                referral=referral(),
                config=config,
                webhook_events=webhook_events,
            ),
        )
        await shape(pathway)
    finally:
        await worker.stop()
    full = await whole_cost(env.client, pathway.handle.id)
    async with Worker(
        env.client, task_queue=MINIMAL_QUEUE, workflows=[MinimalShapeWorkflow], activities=[minimal_step]
    ):
        minimal_id = f"minimal-{uuid.uuid4()}"
        await env.client.execute_workflow(
            MinimalShapeWorkflow.run, ",".join(full.plan), id=minimal_id, task_queue=MINIMAL_QUEUE
        )
    minimal = await whole_cost(env.client, minimal_id)
    return Measured(full, minimal)


COMPARATIVE = CLINICAL.model_copy(update={"comparative_blocks": True})
SHAPES: dict[str, tuple[Shape, PathwayConfig]] = {
    "typical": (typical, CLINICAL),
    "longest": (longest, COMPARATIVE),
}


async def outbox_note(with_outbox: Cost) -> str:
    """What the webhook outbox adds to the longest pathway: the same pathway again with it off."""
    without = (await measure(longest, config=COMPARATIVE, webhook_events=False)).full
    on, off = with_outbox.executions[0].events, without.executions[0].events
    return (
        f"webhook outbox (longest pathway): the pathway's own execution has {on} events with it,"
        f" {off} without (+{on - off}: {with_outbox.count('l')} local activity writes, one marker event each"
        f" in the workflow task that caused them); all executions: {with_outbox.tasks} vs {without.tasks}"
        " workflow tasks,"
        f" {with_outbox.bytes / 1000:.1f} vs {without.bytes / 1000:.1f} KB"
    )


def add_rows(report: Report, name: str, runs: Sequence[Measured]) -> None:
    def spread(figure: Callable[[Measured], float]) -> Spread:
        return Spread.of([figure(m) for m in runs])

    most = spread(lambda m: m.full.max_events)
    tasks = spread(lambda m: m.full.tasks / m.minimal.tasks)
    size = spread(lambda m: m.full.bytes / m.minimal.bytes)
    report.add(
        Row(
            f"{name}: events per execution, max",
            "events",
            most,
            f"<= {EVENTS_BOUND}",
            most.max <= EVENTS_BOUND,
            0,
        )
    )
    report.add(Row(f"{name}: events, all executions", "events", spread(lambda m: m.full.events), digits=0))
    report.add(
        Row(
            f"{name}: executions (pathway, children's runs)",
            "count",
            spread(lambda m: len(m.full.executions)),
            digits=0,
        )
    )
    report.add(Row(f"{name}: workflow tasks", "tasks", spread(lambda m: m.full.tasks), digits=0))
    report.add(
        Row(
            f"{name}: tasks that only carried a read, left out",
            "tasks",
            spread(lambda m: m.full.query_tasks),
            digits=0,
        )
    )
    report.add(Row(f"{name}: history bytes", "KB", spread(lambda m: m.full.bytes / 1000)))
    report.add(Row(f"{name}: minimal shape's events", "events", spread(lambda m: m.minimal.events), digits=0))
    report.add(
        Row(f"{name}: minimal shape's workflow tasks", "tasks", spread(lambda m: m.minimal.tasks), digits=0)
    )
    report.add(Row(f"{name}: minimal shape's bytes", "KB", spread(lambda m: m.minimal.bytes / 1000)))
    report.add(
        Row(f"{name}: tasks full / minimal", "ratio", tasks, f"<= {RATIO_GOAL}", tasks.max <= RATIO_GOAL, 2)
    )
    report.add(
        Row(f"{name}: bytes full / minimal", "ratio", size, f"<= {RATIO_GOAL}", size.max <= RATIO_GOAL, 2)
    )
    last = runs[-1].full
    per_execution = ", ".join(f"{e.workflow_type} {e.events}" for e in last.executions)
    report.notes.append(
        f"{name}: {last.count('a')} activities, {last.count('l')} local activities (webhook outbox writes),"
        f" {last.count('t')} timers; events per execution: {per_execution}"
    )
    pathway = last.executions[0]
    if pathway.before_outcomes is not None:
        report.notes.append(
            f"{name}: the pathway's own execution has {pathway.before_outcomes} events before it starts the"
            f" outcome check-ins and {pathway.events - pathway.before_outcomes} from then to its end"
        )
    report.notes.append(f"{name}: {_as_kept(last)}")
    report.notes.append(f"{name}: the pathway's bytes by event type: {_largest(last)}")
    report.notes.append(f"{name}: bytes by feature, the pathway / the minimal shape: {_features(runs[-1])}")
    report.notes.append(
        f"{name}: workflow tasks by what woke them, the pathway / the minimal shape: {_tasks(runs[-1])}"
    )
    report.notes.append(f"{name}: the minimal shape's bytes by event type: {_largest(runs[-1].minimal)}")


def _as_kept(cost: Cost) -> str:
    """The histories as the server kept them, the tasks that only carried a read included."""
    most = max(e.events + 3 * e.query_tasks for e in cost.executions)
    return (
        f"with the {cost.query_tasks} workflow tasks that only carried one of the driver's reads (3 events"
        f" each; bench/query_tasks.py), the server kept {cost.tasks + cost.query_tasks} workflow tasks and"
        f" {most} events in the largest execution"
    )


def _features(measured: Measured) -> str:
    full, minimal = measured.full.by_feature.bytes, measured.minimal.by_feature.bytes
    parts = [f"{name} {full[name] / 1000:.1f} / {minimal[name] / 1000:.1f} KB" for name in _ALL]
    return ", ".join(parts) + f" (the rest: {full[REST] / max(minimal[REST], 1):.2f}x)"


def _tasks(measured: Measured) -> str:
    full, minimal = measured.full.by_feature.tasks, measured.minimal.by_feature.tasks
    parts = [f"{name} {full[name]} / {minimal[name]}" for name in _ALL if full[name] or minimal[name]]
    return ", ".join(parts) + f" (the rest: {full[REST] / max(minimal[REST], 1):.2f}x)"


_ALL = (*FEATURES, SUMMARIES, REST)


def _largest(cost: Cost, count: int = 6) -> str:
    return ", ".join(f"{kind.lower()} {size / 1000:.1f} KB" for kind, size in cost.by_type.most_common(count))


async def run(repeats: int) -> Report:
    report = Report("pathway_cost", "Pathway cost: history of a whole pathway vs the minimal shape")
    measured: dict[str, list[Measured]] = {}
    for name, (shape, config) in SHAPES.items():
        measured[name] = [await measure(shape, config=config) for _ in range(repeats)]
        add_rows(report, name, measured[name])
    report.notes.append(await outbox_note(measured["longest"][-1].full))
    report.notes.append(
        "time-skipping test server (temporal-test-server), the workflow tests' worker and fake clinic;"
        " payloads encrypted by the tests' codec in both; the minimal shape carries payloads of the pathway's"
        " (decrypted) sizes, and its input is its plan"
    )
    return report


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    run_stoppable(run(args.repeats)).publish()


if __name__ == "__main__":
    main()
