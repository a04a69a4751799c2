"""Waiting and deadlines: every wait of the stage sequence reacts to withdrawal and appointment changes,
and a clinician's or patient's step that is late raises attention once, until it arrives."""

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.appointments import AppointmentStatus, appointment_kind_of
    from domain.config import PathwayConfig
    from domain.results import StepModel
    from domain.stages import Actor, Outcome, StepName

from workflows.appointment_book import AppointmentBook
from workflows.pathway_ended import PathwayEnded
from workflows.status_board import StatusBoard
from workflows.step_inbox import StepInbox

S = TypeVar("S", bound=StepModel)


class Woke(Enum):
    READY = "ready"
    TIMEOUT = "timeout"
    REBOOKED = "rebooked"


class Waiter:
    def __init__(
        self, inbox: StepInbox, book: AppointmentBook, board: StatusBoard, config: PathwayConfig
    ) -> None:
        self._inbox = inbox
        self._book = book
        self._board = board
        self._config = config

    async def wait(self, ready: Callable[[], bool], timeout: timedelta | None, summary: str) -> Woke:
        """Waits for `ready()` or the timeout. A withdrawal ends the pathway (PathwayEnded); appointment
        changes are applied as they come, and a rebooking wakes the caller to recompute its deadline."""
        deadline = None if timeout is None else workflow.now() + timeout
        inbox = self._inbox

        def woken() -> bool:
            return ready() or inbox.withdrawal is not None or bool(inbox.appointment_changes)

        while True:
            if not woken():
                remaining = None if deadline is None else deadline - workflow.now()
                if remaining is not None and remaining <= timedelta(0):
                    return Woke.TIMEOUT
                try:
                    await workflow.wait_condition(woken, timeout=remaining, timeout_summary=summary)
                except TimeoutError:
                    # The timer fires before conditions are checked: what arrived in the same workflow task
                    # (a step sent right at its deadline) still counts.
                    if not woken():
                        return Woke.TIMEOUT
            if inbox.withdrawal is not None:
                raise PathwayEnded(Outcome.WITHDRAWN, inbox.withdrawal.reason)
            if inbox.appointment_changes:
                if await self._apply_appointment_changes():
                    return Woke.REBOOKED
                continue
            return Woke.READY

    async def step(
        self,
        step: StepName,
        model: type[S],
        due_after: timedelta,
        *,
        actor: Actor = Actor.CLINICIAN,
        since: datetime | None = None,
    ) -> S:
        """Waits for `step`, raising attention once when it is late; a rebooked appointment resets the
        deadline. The deadline counts from `since`, else from the stage's appointment or the stage's start.
        A patient's late step becomes a staff call."""
        overdue = step.overdue
        while True:
            due_at = since + due_after if since is not None else self._due_at(due_after)
            late = workflow.now() >= due_at and overdue in self._board.attention
            if not late:
                self._board.clear_attention(overdue)
            if late and actor == Actor.PATIENT:
                self._board.set_next_action(Actor.STAFF, "call_patient", due_at)
            else:
                self._board.set_next_action(actor, step.value, due_at)
            woke = await self.wait(
                lambda: self._inbox.has(step), None if late else due_at - workflow.now(), f"{step.value} due"
            )
            if woke == Woke.READY:
                self._board.clear_attention(overdue)
                return self._inbox.take(step, model)
            if woke == Woke.TIMEOUT:
                self._board.raise_attention(overdue)

    def _due_at(self, due_after: timedelta) -> datetime:
        """Deadlines count from the end of the stage's appointment (clinical) or from entering the stage."""
        since = self._board.stage_since
        kind = appointment_kind_of(self._board.stage)
        current = self._book.current(kind) if kind is not None else None
        if self._config.deadlines_follow_calendar and current is not None:
            since = max(since, current.ends_at)
        return since + due_after

    async def _apply_appointment_changes(self) -> bool:
        rebooked = False
        while self._inbox.appointment_changes:
            change = self._inbox.appointment_changes[0]
            appointment = self._book.find(change.appointment_id)
            assert appointment is not None  # the validator checked it
            try:
                rebooked |= await self._book.record(appointment, AppointmentStatus(change.status))
            finally:
                self._inbox.appointment_changes.pop(0)
        return rebooked
