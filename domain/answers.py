"""What Updates and workflows return: small on purpose, since every answer is stored in history.

The API answers with the pathway view, which it reads after the step; history keeps only these."""

from domain.check_ins import CheckInName
from domain.contract import ContractModel
from domain.stages import Outcome, PathwayStatus, Stage


class StepAccepted(ContractModel):
    """The step was taken; the pathway now stands at `stage`."""

    stage: Stage
    status: PathwayStatus


class ReportAccepted(ContractModel):
    """The pain report is in the diary, which now holds `reports` reports."""

    reports: int


class CheckInAccepted(ContractModel):
    """The answers or the call were recorded on the named outcome check-in."""

    check_in: CheckInName


class PathwayResult(ContractModel):
    """How a pathway ended (the reason, possibly free text, stays in the view)."""

    stage: Stage
    status: PathwayStatus
    outcome: Outcome
