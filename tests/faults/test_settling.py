"""Before the fault suite counts messages, it waits for them to settle (faults/checks.py): until none of the
cohort's is pending, or no workflow of theirs (the pathways, their children, and theirs) has an activity
left to send one; a child still starting counts as one that may. Past the bound it reports how many are
still being tried, so that a count that could miss a later copy fails the scenario."""

from dataclasses import dataclass, field
from typing import Any

import pytest
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionResponse
from temporalio.service import RPCError, RPCStatusCode

from faults import checks


@dataclass
class _Service:
    """Describes workflows from a table: id -> (its pending activities, its pending children)."""

    workflows: dict[str, tuple[int, list[str]]]
    described: list[str] = field(default_factory=list)

    async def describe_workflow_execution(self, request: Any, **_: Any) -> DescribeWorkflowExecutionResponse:
        workflow_id = request.execution.workflow_id
        self.described.append(workflow_id)
        if workflow_id not in self.workflows:
            raise RPCError("not found", RPCStatusCode.NOT_FOUND, b"")
        activities, children = self.workflows[workflow_id]
        answer = DescribeWorkflowExecutionResponse()
        for _activity in range(activities):
            answer.pending_activities.add(activity_id="1")
        for child in children:
            answer.pending_children.add(workflow_id=child)
        return answer


@dataclass
class _Temporal:
    workflow_service: _Service
    namespace: str = "default"


@dataclass
class _Outbox:
    pending: int

    async def fetchval(self, *_: Any) -> int:
        return self.pending


async def test_an_activity_of_a_grandchild_is_one_left_to_send() -> None:
    service = _Service({"p": (0, ["child"]), "child": (0, ["grandchild"]), "grandchild": (1, [])})
    assert await checks._activities_pending(_Temporal(service), ["p"])  # type: ignore[arg-type]
    assert service.described == ["p", "child", "grandchild"]


async def test_workflows_with_no_activity_left_have_nothing_to_send() -> None:
    service = _Service({"p": (0, ["child"]), "child": (0, []), "q": (0, [])})
    assert not await checks._activities_pending(_Temporal(service), ["p", "q"])  # type: ignore[arg-type]


async def test_a_child_not_started_yet_may_still_send() -> None:
    service = _Service({"p": (0, ["starting"])})
    assert await checks._activities_pending(_Temporal(service), ["p"])  # type: ignore[arg-type]


async def test_messages_still_being_tried_past_the_bound_are_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(checks, "SETTLE_SECONDS", 0.0)
    busy = _Temporal(_Service({"p": (1, [])}))
    assert await checks._settled(_Outbox(pending=2), busy, ["p"]) == 2  # type: ignore[arg-type]
    idle = _Temporal(_Service({"p": (0, [])}))  # pending, but nothing left to send them: left in doubt
    assert await checks._settled(_Outbox(pending=2), idle, ["p"]) == 0  # type: ignore[arg-type]
    assert await checks._settled(_Outbox(pending=0), busy, ["p"]) == 0  # type: ignore[arg-type]
