"""A pain report that meets its relief check as it closes is a 409 whatever the server's code, never a 500;
an outage stays an outage, and a refusal from a check still running stays what it is."""

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
    def __init__(self, error: RPCError, closed: bool) -> None:
        self.error, self.closed, self.described = error, closed, False

    async def execute_update(self, *args: Any, **kwargs: Any) -> None:
        raise self.error

    async def describe(self) -> _Description:
        self.described = True
        return _Description(datetime.now(UTC) if self.closed else None)


def _error(status: RPCStatusCode) -> RPCError:
    return RPCError("refused", status, b"")


@pytest.mark.parametrize("status", [RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.ABORTED])
async def test_a_report_meeting_a_closed_check_is_a_409(status: RPCStatusCode) -> None:
    with pytest.raises(Problem) as problem:
        await _into_diary(_Diary(_error(status), closed=True), PainReport(pain=7), None)  # type: ignore[arg-type]
    assert (problem.value.status, problem.value.slug) == (409, "wrong-stage")


async def test_not_found_is_a_409_without_asking() -> None:
    diary = _Diary(_error(RPCStatusCode.NOT_FOUND), closed=False)
    with pytest.raises(Problem) as problem:
        await _into_diary(diary, PainReport(pain=7), None)  # type: ignore[arg-type]
    assert problem.value.status == 409


async def test_a_refusal_from_a_running_check_stands() -> None:
    with pytest.raises(RPCError):
        await _into_diary(
            _Diary(_error(RPCStatusCode.FAILED_PRECONDITION), closed=False),  # type: ignore[arg-type]
            PainReport(pain=7),
            None,
        )


async def test_an_outage_stays_an_outage_and_asks_nothing() -> None:
    diary = _Diary(_error(RPCStatusCode.UNAVAILABLE), closed=True)
    with pytest.raises(RPCError):
        await _into_diary(diary, PainReport(pain=7), None)  # type: ignore[arg-type]
    assert not diary.described
