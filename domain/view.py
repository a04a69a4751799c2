"""The pathway view (DESIGN.md §4): what `GET /v1/pathways/{id}` and every step endpoint answer.

Fields may be added; none removed.
"""

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from domain.appointments import Appointment
from domain.check_ins import CheckInName, CheckInStatus, WorkStatus
from domain.comparative_blocks import Concordance
from domain.consents import ConsentCategory
from domain.results import Anesthesia, Anesthetic, RedFlag, StaffCall
from domain.stages import Actor, AttentionReason, Outcome, PathwayStatus, ReliefResult, Stage

T = TypeVar("T")


class Criteria(BaseModel):
    """The four candidacy criteria: true, false, or not known yet (null)."""

    typical_facet_pain: bool | None = None
    mri_facet_swelling: bool | None = None
    exam_concordant: bool | None = None
    block_positive: bool | None = None


class ScreeningView(BaseModel):
    """Criterion 1 as the screen found it, and the clinician's review when the screen failed."""

    typical_facet_pain: bool | None = None
    reason: str | None = None
    review_proceed: bool | None = None
    reviewed_by: str | None = None


class ReportedPain(BaseModel):
    at: datetime
    pain: int


class SentPrompt(BaseModel):
    """A diary prompt sent to the patient (the last one of a diary is the +24 h return check)."""

    number: int
    at: datetime
    answer_due_at: datetime


class ReliefCheckView(BaseModel):
    block_number: int = 1
    anesthetic: Anesthetic | None = None
    baseline_pain: int | None = None
    performed_at: datetime | None = None
    reports: list[ReportedPain] = Field(default_factory=list)
    result: ReliefResult | None = None
    peak_relief_pct: int | None = None
    # The run that counts (domain.relief): minutes from the block to its first report, and from its first
    # to its last report. None until evaluated, and when there is no run.
    onset_minutes: float | None = None
    relief_duration_minutes: float | None = None
    # How long relief lasted, in minutes from its onset to the usual pain back (positive), or to the last
    # diary report when prolonged (a lower bound): what comparative blocks compare. None otherwise.
    relief_lasted_minutes: float | None = None
    # The +24 h return check's answer: shown, kept apart from the diary, never part of the verdict.
    returned_at: datetime | None = None
    return_check_pain: int | None = None
    reason: str | None = None
    prompts_sent: list[SentPrompt] = Field(default_factory=list)
    """The diary's prompts, as the relief check sent them (kept there, so the pathway's history is not
    written once per prompt)."""


class StaffCallView(BaseModel):
    """A call staff made to a patient who had not answered a check-in."""

    at: datetime
    reached: bool
    called_by: str
    note: str

    @classmethod
    def of(cls, call: StaffCall, at: datetime) -> "StaffCallView":
        return cls(at=at, reached=call.reached, called_by=call.called_by, note=call.note)


class FollowUpView(BaseModel):
    status: CheckInStatus | None = None
    """None until the follow-up stage; then open, answered or not_obtained (stopped on withdrawal)."""
    pain: int | None = None
    returned_to_work: bool | None = None
    red_flags: list[RedFlag] = Field(default_factory=list)
    staff_calls: list[StaffCallView] = Field(default_factory=list)


class OutcomeCheckInView(BaseModel):
    """One outcome check-in: when it is sent, where it stands, and the answers."""

    check_in: CheckInName
    due_at: datetime
    status: CheckInStatus = CheckInStatus.SCHEDULED
    answered_at: datetime | None = None
    pain: int | None = None
    work_status: WorkStatus | None = None
    pgic: int | None = None
    red_flags: list[RedFlag] = Field(default_factory=list)
    recorded_by: str | None = None
    """Who transcribed the answers, or made the call that obtained them."""
    staff_calls: list[StaffCallView] = Field(default_factory=list)


class ChangeRequestView(BaseModel):
    """A patient asked to move or cancel a booked appointment; staff act on it (resolve_attention)."""

    appointment_id: str
    wish: str
    via: str
    at: datetime


SmsStatus = Literal["active", "opted_out", "refused", "none"]
EmailStatus = Literal["active", "refused", "none"]


class ContactView(BaseModel):
    """How the patient is reached, without their details: whether SMS goes to them (`active`), stopped by
    their STOP to us or at the gateway (`opted_out`: START resumes it), refused by the gateway as an unusable
    number (`refused`), or not possible (`none`: no number, or no consent); whether e-mail does (`active`),
    refused by their mail server (`refused`: staff correct the address), or not possible (`none`: no address,
    or e-mail declined); and their consents in force, by
    category (domain/consents.py; granted unless declined)."""

    sms: SmsStatus
    email: EmailStatus
    consents: dict[ConsentCategory, bool] = Field(default_factory=dict)


class NextAction(BaseModel):
    actor: Actor
    action: str
    due_at: datetime | None = None


class TimelineEntry(BaseModel):
    at: datetime
    event: str
    detail: str = ""


class PathwayView(BaseModel):
    pathway_id: str
    stage: Stage = Stage.INTAKE
    status: PathwayStatus = PathwayStatus.ACTIVE
    outcome: Outcome | None = None
    outcome_reason: str | None = None
    clinic_site: str
    patient_ref: str
    profile: str
    policy_version: int | None = None
    """The version of its clinic's policy the pathway started with, and keeps."""
    criteria: Criteria = Field(default_factory=Criteria)
    indications: list[str] = Field(default_factory=list)
    screening: ScreeningView = Field(default_factory=ScreeningView)
    appointments: list[Appointment] = Field(default_factory=list)
    relief_check: ReliefCheckView = Field(default_factory=ReliefCheckView)
    """The latest block's relief check."""
    blocks: list[ReliefCheckView] = Field(default_factory=list)
    """Every block's relief check in order, the latest (the same as `relief_check`) once it has started."""
    concordance: Concordance | None = None
    """Comparative blocks (clinic policy): the pair's verdict once its second block is evaluated; shown to the
    clinician at candidacy, never an automatic gate. None outside that mode and until then."""
    anesthesia: Anesthesia | None = None
    follow_up: FollowUpView = Field(default_factory=FollowUpView)
    outcomes: list[OutcomeCheckInView] = Field(default_factory=list)
    """The outcome check-ins after the follow-up (2 weeks to 12 months), once the outcomes stage began."""
    change_requests: list[ChangeRequestView] = Field(default_factory=list)
    """Patients' requests to move or cancel an appointment, open until staff resolve them."""
    needs_attention: bool = False
    attention_reasons: list[AttentionReason] = Field(default_factory=list)
    next_action: NextAction | None = None
    contact: ContactView | None = None
    """Added by the API when it reads the view (from the patient registry, which workflows never see)."""
    timeline: list[TimelineEntry] = Field(default_factory=list)


class Versioned(BaseModel, Generic[T]):
    """What a query read (the pathway's view, a relief check's diary, the outcome check-ins) with the version
    of the code that read it (workflows/view_version.py): what the API keeps a read copy under."""

    version: str
    value: T
