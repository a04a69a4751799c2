"""What clinicians, patients and staff record on a pathway: the bodies of the step endpoints (DESIGN.md §4).

The same models are the API's request bodies and the workflow's Update arguments, so the contract has one
source. Range and shape are checked here; stage and time are checked by the workflow's validators.
"""

from typing import Annotated, Literal

from pydantic import Field, StrictInt

from domain.check_ins import CheckInName, WorkStatus
from domain.contract import ContractModel
from domain.fields import ClinicalInstant, Clinician, Flag, PainScore, Reason

Level = Literal["T12-L1", "L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"]
Side = Literal["left", "right", "bilateral"]
Anesthetic = Literal["lidocaine", "bupivacaine"]
Anesthesia = Literal["twilight", "general"]
Levels = Annotated[list[Level], Field(min_length=1, max_length=6)]
RedFlag = Literal[
    "fever", "wound_drainage", "new_weakness", "new_numbness", "bladder_or_bowel_change", "severe_pain"
]


class StepModel(ContractModel):
    """A step's body: unknown fields are refused from a client, and dropped when read back from history."""


class ScreeningReview(StepModel):
    """A clinician's review of a referral that failed the screen: proceed to the MRI, or close."""

    proceed: Flag
    reason: Reason
    reviewed_by: Clinician


class MriReview(StepModel):
    facet_swelling: Flag
    levels: list[Level] = Field(default_factory=list, max_length=6)
    side: Side | None = None
    reviewed_by: Clinician


class ExamResult(StepModel):
    palpation_concordant: Flag
    levels: list[Level] = Field(default_factory=list, max_length=6)
    examined_by: Clinician


class BlockRecord(StepModel):
    performed_at: ClinicalInstant | None = Field(default=None, description="Defaults to when it is recorded")
    anesthetic: Anesthetic
    levels: Levels
    side: Side
    baseline_pain: PainScore
    performed_by: Clinician
    override_reason: Reason | None = Field(
        default=None,
        description="Required to block levels neither the MRI nor the exam found, and, with comparative "
        "blocks, to give the first block with another anesthetic than lidocaine or the second with another "
        "than bupivacaine",
    )


class PainReport(StepModel):
    """A diary answer: the patient's own (by text or by their link), or one staff transcribe."""

    pain: PainScore
    recorded_at: ClinicalInstant | None = Field(default=None, description="Defaults to when it is received")
    recorded_by: Clinician | None = Field(
        default=None, description="Who transcribed the patient's answer (kept in the audit)"
    )


class SafetyChecklist(StepModel):
    """The pre-procedure safety checklist: every item must be true to approve DVR."""

    anticoagulants_managed: Flag
    no_active_infection: Flag
    allergies_reviewed: Flag
    pregnancy_excluded_or_not_applicable: Flag

    @property
    def complete(self) -> bool:
        return all(
            (
                self.anticoagulants_managed,
                self.no_active_infection,
                self.allergies_reviewed,
                self.pregnancy_excluded_or_not_applicable,
            )
        )


class CandidacyDecision(StepModel):
    approved: Flag
    anesthesia: Anesthesia | None = Field(default=None, description="Required when approved")
    decided_by: Clinician
    reason: Reason | None = None
    repeat_block: Flag = Field(
        default=False, description="Book another block instead of deciding now (not with approved)"
    )
    override_reason: Reason | None = Field(
        default=None,
        description="Required to approve after a block that was not positive, or to repeat past the policy",
    )
    safety_checklist: SafetyChecklist | None = Field(
        default=None, description="Required when approved, with every item true"
    )


class ProcedureRecord(StepModel):
    status: Literal["completed", "cancelled"]
    completed_at: ClinicalInstant | None = None
    levels_treated: list[Level] = Field(default_factory=list, max_length=6)
    performed_by: Clinician
    override_reason: Reason | None = Field(
        default=None, description="Required to treat levels no positive block confirmed"
    )


class FollowUpAnswer(StepModel):
    """The next-day check-in's answers: the patient's own, or ones staff transcribe."""

    pain: PainScore
    returned_to_work: Flag | None = None
    red_flags: list[RedFlag] = Field(default_factory=list, max_length=6)
    recorded_by: Clinician | None = Field(
        default=None, description="Who transcribed the patient's answers (kept in the audit)"
    )


PgicScore = Annotated[
    StrictInt,
    Field(
        ge=1,
        le=7,
        description="Patient Global Impression of Change: 1 very much improved ... 7 very much worse",
    ),
]


class OutcomeAnswer(StepModel):
    """An outcome check-in's answers, as the patient gave them (staff transcribe them)."""

    check_in: CheckInName = Field(description="The open check-in these answers are for")
    pain: PainScore
    work_status: WorkStatus
    pgic: PgicScore
    red_flags: list[RedFlag] = Field(default_factory=list, max_length=6)
    recorded_by: Clinician = Field(description="Who transcribed the answers")


class CheckInAnswers(StepModel):
    """What staff obtained on a call: the pain, and what else the patient told them."""

    pain: PainScore
    returned_to_work: Flag | None = Field(default=None, description="At the next-day follow-up")
    work_status: WorkStatus | None = Field(default=None, description="At an outcome check-in")
    pgic: PgicScore | None = Field(default=None, description="At an outcome check-in")
    red_flags: list[RedFlag] = Field(default_factory=list, max_length=6)

    def refusal_at_follow_up(self) -> str | None:
        if self.work_status is not None or self.pgic is not None:
            return (
                "the next-day follow-up asks for pain, return to work and red flags, not work_status or pgic"
            )
        return None

    def refusal_at_outcomes(self) -> str | None:
        if self.returned_to_work is not None:
            return "an outcome check-in asks for work_status, not returned_to_work"
        if self.work_status is None or self.pgic is None:
            return "an outcome check-in's answers need work_status and pgic"
        return None


class StaffCall(StepModel):
    """Staff's call to a patient who did not answer the open check-in (follow-up or outcome check-in)."""

    reached: Flag
    answers: CheckInAnswers | None = Field(default=None, description="Only when the patient was reached")
    note: Reason
    called_by: Clinician


class AppointmentStatusBody(StepModel):
    status: Literal["arrived", "noshow", "cancelled"]


class AppointmentStatusChange(StepModel):
    appointment_id: str
    status: Literal["arrived", "noshow", "cancelled"]


class Withdrawal(StepModel):
    reason: Reason


class AttentionResolution(StepModel):
    """Staff's record of how an attention that waits for them was handled: red flags, or a patient's request
    to change an appointment. The note is free text (never in search attributes or current details)."""

    reason: Literal["red_flags", "reschedule_requested"]
    note: Reason
    resolved_by: Clinician


class AppointmentChangeBody(StepModel):
    """A patient's wish to move or cancel a booked appointment; it stays booked until staff act."""

    wish: Literal["reschedule", "cancel"]
    via: Literal["link", "sms", "phone"] = Field(
        default="phone", description="How the patient asked: their link page, a text reply, or a call"
    )


class AppointmentChangeRequest(AppointmentChangeBody):
    appointment_id: str


class RedFlagReport(StepModel):
    """Red flags a patient reported with an answer that could not be recorded (its question had closed, or
    the form had been answered before): urgent all the same."""

    red_flags: list[RedFlag] = Field(min_length=1, max_length=6)
    via: Literal["link"] = "link"


class StaffRequest(StepModel):
    """A staff action taken on a pathway (e.g. retry a booking), and who took it."""

    requested_by: Clinician
