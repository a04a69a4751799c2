"""The vocabulary of the pathway: stages, statuses and outcomes (DESIGN.md §2)."""

from enum import StrEnum


class Stage(StrEnum):
    """Where a pathway stands; the value of the `PathwayStage` search attribute."""

    INTAKE = "intake"
    MRI = "mri"
    EXAM = "exam"
    BLOCK = "block"
    RELIEF_CHECK = "relief_check"
    CANDIDACY = "candidacy"
    DVR_SCHEDULED = "dvr_scheduled"
    FOLLOW_UP = "follow_up"
    OUTCOMES = "outcomes"
    COMPLETED = "completed"
    CLOSED = "closed"


class PathwayStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CLOSED = "closed"


class Outcome(StrEnum):
    """Why a pathway ended; the value of the `PathwayOutcome` search attribute."""

    DVR_COMPLETED = "dvr_completed"
    NOT_CANDIDATE = "not_candidate"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    NO_SHOW = "no_show"


class ReliefResult(StrEnum):
    """The result of a medial branch block's relief check (criterion 4)."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    PROLONGED = "prolonged"
    INDETERMINATE = "indeterminate"


class Actor(StrEnum):
    """Who the pathway is waiting for."""

    SYSTEM = "system"
    CLINICIAN = "clinician"
    PATIENT = "patient"
    STAFF = "staff"


class StepName(StrEnum):
    """A clinician's, patient's or staff member's step on the pathway; each is taken in one stage."""

    SCREENING_REVIEW = "screening_review"
    MRI_REVIEW = "mri_review"
    EXAM = "exam"
    BLOCK = "block"
    CANDIDACY_DECISION = "candidacy_decision"
    PROCEDURE = "procedure"
    FOLLOW_UP = "follow_up"
    STAFF_CALL = "staff_call"

    @property
    def stage(self) -> Stage:
        """The stage that accepts this step."""
        return _STEP_STAGE[self]

    @property
    def overdue(self) -> "AttentionReason":
        """The attention reason raised when this step is late."""
        return AttentionReason(f"{self.value}_overdue")


_STEP_STAGE = {
    StepName.SCREENING_REVIEW: Stage.INTAKE,
    StepName.MRI_REVIEW: Stage.MRI,
    StepName.EXAM: Stage.EXAM,
    StepName.BLOCK: Stage.BLOCK,
    StepName.CANDIDACY_DECISION: Stage.CANDIDACY,
    StepName.PROCEDURE: Stage.DVR_SCHEDULED,
    StepName.FOLLOW_UP: Stage.FOLLOW_UP,
    # The pathway takes staff calls at its follow-up; in outcomes they go to the outcome check-ins' workflow.
    StepName.STAFF_CALL: Stage.FOLLOW_UP,
}


class AttentionReason(StrEnum):
    """Why a pathway needs a person (`NeedsAttention`); staff are told once per reason while it stands."""

    SCREENING_REVIEW_OVERDUE = "screening_review_overdue"
    MRI_REVIEW_OVERDUE = "mri_review_overdue"
    EXAM_OVERDUE = "exam_overdue"
    BLOCK_OVERDUE = "block_overdue"
    CANDIDACY_DECISION_OVERDUE = "candidacy_decision_overdue"
    PROCEDURE_OVERDUE = "procedure_overdue"
    FOLLOW_UP_OVERDUE = "follow_up_overdue"
    CHECK_IN_UNANSWERED = "check_in_unanswered"
    NO_DIARY_REPORTS = "no_diary_reports"
    RED_FLAGS = "red_flags"
    RESCHEDULE_REQUESTED = "reschedule_requested"
    NO_SLOT_AVAILABLE = "no_slot_available"
    TOO_MANY_CANCELLATIONS = "too_many_cancellations"
    CALENDAR_NOT_UPDATED = "calendar_not_updated"
    MESSAGE_NOT_DELIVERED = "message_not_delivered"
    PATIENT_UNREACHABLE = "patient_unreachable"

    @property
    def words(self) -> str:
        """The reason in plain words, as staff read it."""
        return self.value.replace("_", " ")
