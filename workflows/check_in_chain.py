"""One check-in's chain when the patient does not answer: a reminder, then a staff call task, then, with
nothing obtained by the final deadline, the check-in gives up (domain.check_ins). The next-day follow-up
(in the pathway) and each outcome check-in (in their own workflow) wait through the same chain.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.check_ins import ChainStep, CheckInTimes, chain_steps

# Waits until `ready()` holds or the instant passes; True when ready. (The caller's own wait, which reacts
# to what its workflow reacts to: a withdrawal, an appointment change, a stop.)
WaitUntil = Callable[[Callable[[], bool], datetime, str], Awaitable[bool]]


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
