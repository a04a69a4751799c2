"""Recorded histories of every workflow scenario replay on the current code.

A change that would break a running pathway (a command added, removed or reordered for the same history)
fails here. `make record-histories` re-records them from the workflow tests; see README "Changing a workflow".
"""

import ast
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from config.temporal import DATA_CONVERTER
from config.tracing import tracing_to
from tests.workflows.history_recording import HISTORIES
from workflows.registry import WORKFLOWS, workflow_runner

HERE = Path(__file__).parent
NOT_SCENARIOS = {"test_replay.py", "test_history_shape.py"}


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


@pytest.mark.parametrize("traced", [False, True], ids=["untraced", "traced"])
async def test_recorded_histories_replay_on_the_current_code(traced: bool) -> None:
    """With the tracing interceptor too (config/tracing.py), as a worker with tracing on runs them: it adds
    no command, so a history recorded without it replays with it."""
    spans = InMemorySpanExporter()
    replayer = Replayer(
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(),
        data_converter=DATA_CONVERTER,
        interceptors=tracing_to(spans, "replayer", batched=False).interceptors if traced else [],
    )

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for path in _history_files():
            recorded = json.loads(path.read_text())  # the id matters: child ids derive from it
            yield WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"])

    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    assert results.replay_failures == {}
