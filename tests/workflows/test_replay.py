"""Recorded histories of every workflow scenario replay on the current code.

A change that would break a running pathway (a command added, removed or reordered for the same history)
fails here. `make record-histories` re-records them from the workflow tests; see README "Changing a workflow".
Their payloads are encrypted with the tests' key (tests/codec_keys.py). `before-codec/` keeps a pathway and
its relief check recorded before the payload codec, in the clear: they replay through the codec, as
pathways started before it must (re-recording leaves them; an incompatible change drops them).
`one-check-in-per-run/` keeps outcome check-in runs from before several check-ins shared a run.
"""

import ast
import json
from collections.abc import AsyncIterator
from pathlib import Path

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import WorkflowHistory
from temporalio.common import HeaderCodecBehavior
from temporalio.worker import Replayer

from config.tracing import tracing_to
from tests.codec_keys import TEST_DATA_CONVERTER
from tests.workflows.history_recording import HISTORIES
from workflows.registry import WORKFLOWS, workflow_runner

HERE = Path(__file__).parent
BEFORE_CODEC = HISTORIES / "before-codec"
ONE_CHECK_IN_PER_RUN = HISTORIES / "one-check-in-per-run"
# Tests of the harness and of history sizes, not pathway scenarios.
NOT_SCENARIOS = {"test_replay.py", "test_history_shape.py", "test_time_skipping.py"}


def _scenario_tests() -> set[str]:
    """`<module>__<test>` of every workflow test: each is a scenario with a recorded history."""
    names = set()
    for module in HERE.glob("test_*.py"):
        if module.name in NOT_SCENARIOS:
            continue
        for node in ast.parse(module.read_text()).body:
            if isinstance(node, ast.AsyncFunctionDef) and node.name.startswith("test_"):
                names.add(f"{module.stem}__{node.name}")
    return names


def _history_files() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def test_every_workflow_scenario_has_a_recorded_history() -> None:
    recorded = {path.name.split(".", 1)[0].rsplit("-", 1)[0] for path in _history_files()}
    recorded |= {path.name.split(".", 1)[0] for path in _history_files()}
    missing = sorted(_scenario_tests() - recorded)
    assert not missing, f"no recorded history for {missing}: run `make record-histories`"
    assert any(".relief-" in path.name for path in _history_files()), "no relief check history recorded"
    assert any(".outcomes" in path.name for path in _history_files()), "no outcome check-ins history recorded"


async def _replay(paths: list[Path], traced: bool = False) -> None:
    """With the tracing interceptor too if `traced` (config/tracing.py), as a worker with tracing on runs
    them: it adds no command, so a history recorded without it replays with it."""
    spans = InMemorySpanExporter()
    replayer = Replayer(
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(),
        data_converter=TEST_DATA_CONVERTER,
        header_codec_behavior=HeaderCodecBehavior.CODEC,  # as config/temporal.py's client and workers
        interceptors=tracing_to(spans, "replayer", batched=False).interceptors if traced else [],
    )

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for path in paths:
            yield _history(path)

    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    assert results.replay_failures == {}


def _history(path: Path) -> WorkflowHistory:
    recorded = json.loads(path.read_text())  # the id matters: child ids derive from it
    return WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"])


async def test_recorded_histories_replay_on_the_current_code() -> None:
    await _replay(_history_files())


async def test_histories_written_before_the_codec_replay_through_it() -> None:
    paths = sorted(BEFORE_CODEC.glob("*.json"))
    assert len(paths) == 2 and any(".relief-" in p.name for p in paths)  # a pathway and its child
    for path in paths:  # in the clear, as before the codec
        started = _history(path).events[0].workflow_execution_started_event_attributes
        assert started.input.payloads[0].metadata["encoding"] == b"json/plain"
    await _replay(paths)


async def test_outcome_runs_that_continued_as_new_after_each_check_in_replay() -> None:
    """Outcome check-ins started before they kept several check-ins in one run went on in a new run after each
    one (workflows/outcome_check_ins.py `FEWER_RUNS`): such runs still replay, their continue-as-new included.
    Recorded from the typical and the longest pathway (bench/pathway_shapes.py)."""
    paths = sorted(ONE_CHECK_IN_PER_RUN.glob("*.json"))
    assert len(paths) == 4
    for path in paths:
        assert _history(path).events[-1].HasField("workflow_execution_continued_as_new_event_attributes")
    await _replay(paths)


TRACED_PER_WORKFLOW = 4
WORKFLOW_NAMES = ("pathway", "relief check", "outcome check-ins")


def _workflow_of(path: Path) -> str:
    if ".relief-" in path.name:
        return "relief check"
    return "outcome check-ins" if ".outcomes" in path.name else "pathway"


async def test_the_largest_histories_replay_with_tracing_on() -> None:
    """The tracing interceptor adds no command: shown on each workflow's largest histories, which hold the
    most of each kind of command, rather than on all of them again (half a minute of the suite)."""
    by_size = sorted(_history_files(), key=lambda p: p.stat().st_size, reverse=True)
    sample = [
        path
        for name in WORKFLOW_NAMES
        for path in [p for p in by_size if _workflow_of(p) == name][:TRACED_PER_WORKFLOW]
    ]
    assert len(sample) == TRACED_PER_WORKFLOW * len(WORKFLOW_NAMES)
    await _replay(sample, traced=True)
