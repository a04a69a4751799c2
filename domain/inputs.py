"""What workflows receive and hand each other: no PHI, only the opaque `patient_ref`."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.config import PathwayConfig, ReliefPolicy
from domain.referral import ClinicalReferral
from domain.relief import DiaryEntry
from domain.results import Anesthetic
from domain.stages import ReliefResult


class PathwayInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    patient_ref: str
    clinic_site: str
    clinic_timezone: str
    patient_timezone: str
    referral: ClinicalReferral
    config: PathwayConfig


class ReliefCheckInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    pathway_id: str
    patient_ref: str
    clinic_timezone: str
    block_number: int
    performed_at: datetime
    baseline_pain: int
    anesthetic: Anesthetic
    policy: ReliefPolicy


class ReliefProgress(BaseModel):
    """What the relief check tells its pathway as it goes, so the pathway view stays current."""

    model_config = ConfigDict(frozen=True)

    event: str  # "prompt_sent", "nudge_sent", "no_reports"
    prompt_number: int | None = None
    answer_due_at: datetime | None = None


class ReliefOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    result: ReliefResult
    peak_relief_pct: int | None
    reason: str
    entries: list[DiaryEntry]
