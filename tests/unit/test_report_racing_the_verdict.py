"""A pain report that meets its relief check as it closes is a 409 whatever the server's code, never a 500;
one that arrives before the server has started the check waits for it; an outage stays an outage, and a
refusal from a check still running stays what it is."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem
from api.routes.steps import _into_diary
from domain.results import PainReport


@dataclass
class _Description:
    close_time: datetime | None


class _Diary:
    """A relief check whose Update fails with `error` (the first `refusals` times only, if given); until then
    it is not started yet if `unstarted`, else running, or closed if `closed`."""

    def __init__(
        self, error: RPCError, closed: bool, refusals: int | None = None, unstarted: bool = False
    ) -> None:
        self.error, self.closed, self.refusals, self.unstarted = error, closed, refusals, unstarted
        self.described, self.updates, self.ids = False, 0, list[str | None]()

    async def execute_update(self, *args: Any, **kwargs: Any) -> None:
        self.updates += 1
        self.ids.append(kwargs.get("id"))
        if self.refusals is None or self.updates <= self.refusals:
            raise self.error

    async def describe(self) -> _Description:
        self.described = True
        if self.unstarted and self.refusals is not None and self.updates <= self.refusals:
            raise _error(RPCStatusCode.NOT_FOUND)
        return _Description(datetime.now(UTC) if self.closed else None)


def _error(status: RPCStatusCode) -> RPCError:
    return RPCError("refused", status, b"")


@pytest.mark.parametrize("status", [RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.ABORTED])
async def test_a_report_meeting_a_closed_check_is_a_409(status: RPCStatusCode) -> None:
    with pytest.raises(Problem) as problem:
        await _into_diary(_Diary(_error(status), closed=True), PainReport(pain=7), None)  # type: ignore[arg-type]
    assert (problem.value.status, problem.value.slug) == (409, "wrong-stage")


async def test_not_found_from_a_closed_check_is_a_409() -> None:
    diary = _Diary(_error(RPCStatusCode.NOT_FOUND), closed=True)
    with pytest.raises(Problem) as problem:
        await _into_diary(diary, PainReport(pain=7), None)  # type: ignore[arg-type]
    assert (problem.value.status, problem.value.slug) == (409, "wrong-stage")


async def test_a_report_sent_before_the_check_has_started_waits_for_it() -> None:
    """The block's answer names the relief check as the server starts it: a report sent at once is taken."""
    diary = _Diary(_error(RPCStatusCode.NOT_FOUND), closed=False, refusals=2, unstarted=True)
    await _into_diary(diary, PainReport(pain=7), None)  # type: ignore[arg-type]
    assert diary.updates == 3


async def test_a_refusal_from_a_running_check_is_sent_again_under_the_same_id() -> None:
    """The server refuses an Update while the check's closing task runs: the report goes again, once."""
    diary = _Diary(_error(RPCStatusCode.FAILED_PRECONDITION), closed=False, refusals=2)
    await _into_diary(diary, PainReport(pain=7), None)  # type: ignore[arg-type]
    assert diary.updates == 3 and len(set(diary.ids)) == 1 and diary.ids[0] is not None


async def test_the_wait_for_a_running_check_is_bounded_by_the_caller() -> None:
    diary = _Diary(_error(RPCStatusCode.FAILED_PRECONDITION), closed=False)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(_into_diary(diary, PainReport(pain=7), None), timeout=0.3)  # type: ignore[arg-type]


async def test_an_outage_stays_an_outage_and_asks_nothing() -> None:
    diary = _Diary(_error(RPCStatusCode.UNAVAILABLE), closed=True)
    with pytest.raises(RPCError):
        await _into_diary(diary, PainReport(pain=7), None)  # type: ignore[arg-type]
    assert not diary.described
