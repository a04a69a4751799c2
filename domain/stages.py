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
