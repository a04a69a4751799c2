"""What workflows receive and hand each other: no PHI, only the opaque `patient_ref`."""

from datetime import datetime
from enum import StrEnum

from domain.check_ins import CheckInName, CheckInStatus, CheckInTimes
from domain.config import PathwayConfig, ReliefPolicy
from domain.contract import ContractModel
from domain.quiet_hours import QuietHours
from domain.referral import ClinicalReferral
from domain.results import Anesthetic, RedFlag
from domain.stages import ReliefResult
from domain.view import OutcomeCheckInView, ReportedPain, SentPrompt


class PathwayInput(ContractModel):
    patient_ref: str
    clinic_site: str
    clinic_timezone: str
    patient_timezone: str
    referral: ClinicalReferral
    config: PathwayConfig
    policy_version: int | None = None
    """The version of the clinic's policy `config` was built from (None: started before policies existed)."""
    webhook_events: bool = False
    """Whether the pathway writes webhook events (workflows/event_outbox.py); pathways started before
    webhooks, whose histories hold no outbox writes, replay without them."""


class ReliefCheckInput(ContractModel):
    pathway_id: str
    patient_ref: str
    clinic_timezone: str
    block_number: int
    performed_at: datetime
    baseline_pain: int
    anesthetic: Anesthetic
    policy: ReliefPolicy


class ProgressEvent(StrEnum):
    """What the relief check tells its pathway as it goes: only what staff must see (each signal is written
    to the pathway's history; the prompts sent are read from the check's own query and result)."""

    FIRST_REPORT = "first_report"
    """The first pain report arrived after NO_REPORTS: nobody needs to call the patient any more."""
    NO_REPORTS = "no_reports"
    """Nothing has arrived by the silence alert: staff should call the patient."""
    MESSAGES_MISSED = "messages_missed"
    """Prompts or nudges missed their moment (an outage, a block recorded late); `detail` says which."""
    MESSAGE_NOT_DELIVERED = "message_not_delivered"
    PATIENT_UNREACHABLE = "patient_unreachable"


class ReliefProgress(ContractModel):
    event: ProgressEvent
    prompt_number: int | None = None
    answer_due_at: datetime | None = None
    detail: str | None = None


class ReliefOutcome(ContractModel):
    """The relief check's result and the diary it was judged on (the pathway keeps it after the check)."""

    result: ReliefResult
    peak_relief_pct: int | None
    reason: str
    reports: list[ReportedPain]
    """The diary: the reports recorded before the +24 h return check."""
    onset_minutes: float | None = None
    relief_duration_minutes: float | None = None
    returned_at: datetime | None = None
    return_check_pain: int | None = None
    prompts_sent: list[SentPrompt] = []


class OutcomesInput(ContractModel):
    pathway_id: str
    patient_ref: str
    patient_timezone: str
    schedule: list[tuple[CheckInName, datetime]]
    times: CheckInTimes
    quiet_hours: QuietHours | None = None
    check_ins: list[OutcomeCheckInView] | None = None
    """Where the check-ins stand, carried to the next run (a run whose history has grown hands the next
    check-in to a new one: continue-as-new keeps a year of them, however many calls they take, to a small
    history per run; workflows/outcome_check_ins.py)."""


class OutcomeEvent(StrEnum):
    """What the outcome check-ins tell their pathway: only what staff must see, since each signal grows the
    pathway's history (a check-in going out is read from the check-ins' own query)."""

    CALL_STAFF = "call_staff"
    """Unanswered: staff should call the patient by `due_at` (the final deadline); they have been told."""
    CLOSED = "closed"
    """Answered or not obtained; `red_flags` carries any the patient reported, `due_at` when the next
    check-in's answer is due (None after the last)."""
    MESSAGE_NOT_DELIVERED = "message_not_delivered"
    PATIENT_UNREACHABLE = "patient_unreachable"


class OutcomeProgress(ContractModel):
    event: OutcomeEvent
    check_in: CheckInName | None = None
    status: CheckInStatus | None = None
    due_at: datetime | None = None
    red_flags: list[RedFlag] = []


class OutcomesResult(ContractModel):
    check_ins: list[OutcomeCheckInView]
