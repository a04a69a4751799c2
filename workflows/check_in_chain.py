"""One check-in's chain when the patient does not answer: a reminder, then a staff call task, then, with
nothing obtained by the final deadline, the check-in gives up (domain.check_ins). The next-day follow-up
(in the pathway) and each outcome check-in (in their own workflow) wait through the same chain.

Before it is sent, a check-in whose moment has come in the patient's quiet hours waits for their end
(`wait_out_quiet_hours`); its chain starts when it is sent.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.check_ins import ChainStep, CheckInTimes, chain_steps
    from domain.quiet_hours import QuietHours, next_allowed

# Waits until `ready()` holds or the instant passes; True when ready. (The caller's own wait, which reacts
# to what its workflow reacts to: a withdrawal, an appointment change, a stop.)
WaitUntil = Callable[[Callable[[], bool], datetime, str], Awaitable[bool]]


async def wait_out_quiet_hours(
    wait_until: WaitUntil,
    arrived: Callable[[], bool],
    patient_timezone: str,
    quiet_hours: QuietHours | None,
    *,
    held: Callable[[datetime], None],
) -> bool:
    """A check-in is due now: in the patient's quiet hours (its moment passed while the procedure was not
    yet recorded, or the worker was down) it waits for their end, telling `held` when it will go. True when
    something arrived meanwhile (staff recorded the answers): then it is not sent. Outside quiet hours it
    does not wait, and adds nothing to the history (domain.quiet_hours says why check-ins wait here)."""
    now = workflow.now()
    until = next_allowed(now, patient_timezone, quiet_hours)
    if until <= now:
        return False
    held(until)
    return await wait_until(arrived, until, "check-in held until quiet hours end")


class CheckInChain:
    def __init__(
        self,
        opened_at: datetime,
        times: CheckInTimes,
        wait_until: WaitUntil,
        *,
        remind: Callable[[], None],
        call_staff: Callable[[datetime], None],
    ) -> None:
        self._steps = chain_steps(opened_at, times)
        self.answer_due = opened_at + times.answer_window
        self.final_deadline = opened_at + times.final_deadline
        self._wait_until = wait_until
        self._remind = remind
        self._call_staff = call_staff

    async def arrival(self, arrived: Callable[[], bool]) -> bool:
        """Waits for something to arrive (an answer, or staff's record of a call), taking the chain's steps
        as their times come; False once the final deadline has passed with nothing. Called again after an
        arrival that obtained nothing (a call that did not reach the patient), it goes on where it was."""
        while self._steps:
            at, step = self._steps[0]
            if await self._wait_until(arrived, at, f"check-in {step.value.replace('_', ' ')}"):
                return True
            self._steps.pop(0)
            if step == ChainStep.GIVE_UP:
                return False
            if self._steps and self._steps[0][0] <= workflow.now():
                continue  # the next step is due as well (the worker was down): this one is overtaken
            if step == ChainStep.REMIND:
                self._remind()
            else:
                self._call_staff(self.final_deadline)
        return False
