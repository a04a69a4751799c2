"""Leaving a pathway early: raised from any stage or wait, caught once by the pathway's run."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.stages import Outcome


class PathwayEnded(Exception):
    """The pathway closes with `outcome`; `reason` may be free text and is kept out of details and logs."""

    def __init__(self, outcome: Outcome, reason: str) -> None:
        super().__init__(outcome.value)
        self.outcome = outcome
        self.reason = reason
