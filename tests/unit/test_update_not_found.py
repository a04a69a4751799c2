"""An Update the server says it cannot find is sent again, with the same id, while its workflow runs; a
closed workflow gets one more try and a workflow the server does not have is not found at once."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf.any_pb2 import Any as Any_
from temporalio.api.common.v1 import GrpcStatus
from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure
from temporalio.client import OutboundInterceptor, StartWorkflowUpdateInput, WorkflowUpdateStage
from temporalio.service import RPCError, RPCStatusCode

from config import update_not_found
from config.update_not_found import UpdateNotFoundRetries


@dataclass
class _Description:
    close_time: datetime | None


def _not_ready() -> RPCError:
    """What the server answers an Update sent before the workflow's first workflow task is done."""
    details = Any_()
    details.Pack(WorkflowNotReadyFailure())
    status = GrpcStatus(code=RPCStatusCode.FAILED_PRECONDITION, message="not ready", details=[details])
    return RPCError("not ready", RPCStatusCode.FAILED_PRECONDITION, status.SerializeToString())


class _Server:
    """The next interceptor: `refusal` (NOT_FOUND) for the first `refusals` Updates, then their id."""

    def __init__(self, refusals: int, state: str, refusal: RPCError | None = None) -> None:
        self.refusals, self.state, self.update_ids = refusals, state, list[str | None]()
        self.refusal = refusal or RPCError("update not found", RPCStatusCode.NOT_FOUND, b"")

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> Any:
        self.update_ids.append(input.update_id)
        if len(self.update_ids) <= self.refusals:
            raise self.refusal
        return input.update_id

    async def describe_workflow(self, input: Any) -> _Description:
        if self.state == "missing":
            raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")
        return _Description(datetime.now(UTC) if self.state == "closed" else None)


def _outbound(server: _Server) -> OutboundInterceptor:
    return UpdateNotFoundRetries().intercept_client(server)  # type: ignore[arg-type]


def _update(update_id: str | None) -> StartWorkflowUpdateInput:
    return StartWorkflowUpdateInput(
        id="pathway-1",
        run_id=None,
        first_execution_run_id=None,
        update_id=update_id,
        update="record_exam",
        args=[],
        wait_for_stage=WorkflowUpdateStage.COMPLETED,
        headers={},
        ret_type=None,
        rpc_metadata={},
        rpc_timeout=None,
    )


@pytest.fixture(autouse=True)
def _no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(update_not_found, "FIRST_PAUSE_SECONDS", 0.0)
    monkeypatch.setattr(update_not_found, "LAST_PAUSE_SECONDS", 0.0)


@pytest.mark.parametrize("update_id", ["step-key-1", None])
async def test_a_running_workflow_gets_the_same_update_again(update_id: str | None) -> None:
    server = _Server(refusals=3, state="running")
    answer = await _outbound(server).start_workflow_update(_update(update_id))
    assert len(server.update_ids) == 4
    assert len(set(server.update_ids)) == 1 and server.update_ids[0] is not None
    assert answer == (update_id or server.update_ids[0])  # type: ignore[comparison-overlap]


async def test_the_tries_while_running_are_bounded() -> None:
    server = _Server(refusals=1000, state="running")
    with pytest.raises(RPCError):
        await _outbound(server).start_workflow_update(_update("k"))
    assert len(server.update_ids) == update_not_found.TRIES_WHILE_RUNNING


async def test_a_closed_workflow_gets_one_more_try() -> None:
    answered = _Server(refusals=1, state="closed")
    assert await _outbound(answered).start_workflow_update(_update("k")) == "k"  # type: ignore[comparison-overlap]
    refused = _Server(refusals=1000, state="closed")
    with pytest.raises(RPCError) as err:
        await _outbound(refused).start_workflow_update(_update("k"))
    assert err.value.status == RPCStatusCode.NOT_FOUND
    assert len(refused.update_ids) == 2


async def test_a_workflow_the_server_does_not_have_is_not_found_at_once() -> None:
    server = _Server(refusals=1000, state="missing")
    with pytest.raises(RPCError) as err:
        await _outbound(server).start_workflow_update(_update("k"))
    assert err.value.status == RPCStatusCode.NOT_FOUND
    assert len(server.update_ids) == 1


async def test_a_workflow_not_ready_yet_gets_the_same_update_again() -> None:
    """A relief check started a moment ago answers "not ready" until its first workflow task is done."""
    server = _Server(refusals=2, state="running", refusal=_not_ready())
    assert await _outbound(server).start_workflow_update(_update("k")) == "k"  # type: ignore[comparison-overlap]
    assert server.update_ids == ["k", "k", "k"]


async def test_another_failed_precondition_is_not_retried() -> None:
    other = RPCError("refused", RPCStatusCode.FAILED_PRECONDITION, b"")
    server = _Server(refusals=1000, state="running", refusal=other)
    with pytest.raises(RPCError):
        await _outbound(server).start_workflow_update(_update("k"))
    assert len(server.update_ids) == 1
