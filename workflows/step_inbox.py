"""The step inbox: steps that arrived by Update wait here for the stage sequence to take them.

The validators' rules live here too, so a wrong-stage or repeated step is refused before it reaches history.
An Update's handler answers once the stage sequence has taken its step, so the answer shows where it led.
"""

from typing import TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.answers import StepAccepted
    from domain.appointments import AppointmentStatus, appointment_kind_of
    from domain.refusals import Refusal
    from domain.results import AppointmentStatusChange, StepModel, Withdrawal
    from domain.stages import StepName

from workflows.appointment_book import AppointmentBook
from workflows.refusal import refuse
from workflows.status_board import StatusBoard

S = TypeVar("S", bound=StepModel)


class StepInbox:
    def __init__(self, board: StatusBoard, book: AppointmentBook, *, follows_calendar: bool = True) -> None:
        """`follows_calendar`: the pathway's clock follows its appointments' times (the config's
        `deadlines_follow_calendar`); the demo profile's runs ahead of them."""
        self._board = board
        self._book = book
        self._follows_calendar = follows_calendar
        self._steps: dict[StepName, StepModel] = {}
        self.withdrawal: Withdrawal | None = None
        self.appointment_changes: list[AppointmentStatusChange] = []

    # ---- validators ------------------------------------------------------------------------------------

    def check_active(self) -> None:
        if not self._board.active:
            raise refuse(Refusal.PATHWAY_CLOSED, f"the pathway is {self._board.status.value}")
        if self.withdrawal is not None:
            raise refuse(Refusal.PATHWAY_CLOSED, "the pathway is being withdrawn")

    def check_step(self, step: StepName) -> None:
        """The pathway is in the step's stage and the step is not already in. A step whose stage is still
        booking its appointment is accepted: it waits in the inbox until the booking is done."""
        self.check_active()
        if self._board.stage != step.stage:
            raise refuse(
                Refusal.WRONG_STAGE,
                f"{step.value} is recorded in {step.stage.value}, not {self._board.stage.value}",
            )
        if step in self._steps:
            raise refuse(Refusal.WRONG_STAGE, f"{step.value} has already been recorded")

    def check_appointment_change(self, change: AppointmentStatusChange) -> None:
        self.check_active()
        appointment = self._book.find(change.appointment_id)
        if appointment is None:
            raise refuse(Refusal.UNKNOWN_APPOINTMENT, "no such appointment on this pathway")
        if appointment.status != AppointmentStatus.BOOKED:
            raise refuse(Refusal.WRONG_STAGE, f"the appointment is already {appointment.status.value}")
        if change.status == "noshow" and self._follows_calendar and appointment.starts_at > workflow.now():
            # A no-show rebooks, and past the limit closes the pathway: only once the patient could have come.
            raise refuse(
                Refusal.WRONG_STAGE, "the appointment has not started yet: a no-show is recorded once it has"
            )
        stage = self._board.stage
        if change.status != "arrived" and appointment_kind_of(stage) != appointment.kind:
            raise refuse(
                Refusal.WRONG_STAGE, f"a {appointment.kind.value} appointment cannot change in {stage.value}"
            )
        if any(c.appointment_id == change.appointment_id for c in self.appointment_changes):
            raise refuse(Refusal.WRONG_STAGE, "a change to this appointment is already being processed")

    # ---- handlers --------------------------------------------------------------------------------------

    async def accept(self, step: StepName, value: StepModel) -> StepAccepted:
        """Hands the step to the stage sequence and answers once it has been taken. The sequence takes it
        once the stage's appointment is booked: a step sent while the booking (or a rebooking after a
        cancellation or no-show) is under way, or waits for staff to find a slot, waits for it."""
        self._steps[step] = value
        await workflow.wait_condition(lambda: step not in self._steps or not self._board.active)
        if step in self._steps:  # the pathway ended (withdrawal, no-show) before it took the step
            del self._steps[step]
            raise refuse(Refusal.PATHWAY_CLOSED, f"the pathway ended before {step.value} was taken")
        return self.answer()

    def answer(self) -> StepAccepted:
        return StepAccepted(stage=self._board.stage, status=self._board.status)

    # ---- for the stage sequence ------------------------------------------------------------------------

    def has(self, step: StepName) -> bool:
        return step in self._steps

    def take(self, step: StepName, model: type[S]) -> S:
        value = self._steps.pop(step)
        assert isinstance(value, model)
        return value
