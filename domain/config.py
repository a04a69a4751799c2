"""The pathway configuration: every number of DESIGN.md §2, and its two timing profiles.

A workflow receives its configuration in its input, so a running pathway keeps the numbers it started with.
"""

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.check_ins import CheckInName, CheckInTimes
from domain.quiet_hours import QuietHours

Profile = Literal["clinical", "demo"]
RELIEF_THRESHOLDS = (0.5, 0.8, 1.0)


def _selectable(value: float) -> float:
    if value not in RELIEF_THRESHOLDS:
        raise ValueError("the relief threshold is 0.5, 0.8 or 1.0 (50, 80 or 100 %)")
    return value


ReliefThreshold = Annotated[float, AfterValidator(_selectable)]


class ReliefPolicy(BaseModel):
    """How a medial branch block's pain diary is prompted and judged."""

    model_config = ConfigDict(frozen=True)

    threshold: ReliefThreshold = 0.8
    min_baseline: int = 3
    min_reports: int = 3
    # A run: `consecutive_at_threshold` or more consecutive diary reports at the threshold, at least
    # `min_run_duration` from first to last, starting within `onset_window` (a local anaesthetic acts within
    # minutes) and within `run_start_within` of the block (domain.relief.evaluate_relief).
    consecutive_at_threshold: int = 2
    min_run_duration: timedelta = timedelta(minutes=30)
    onset_window: timedelta = timedelta(hours=2)
    run_start_within: timedelta = timedelta(hours=6)
    # The usual pain is back when relief falls under this; relief at or above it through the last diary
    # prompt (the last of `prompt_offsets`, less `answer_tolerance`) is prolonged.
    returned_below: float = 0.5
    answer_tolerance: timedelta = timedelta(minutes=10)
    prompt_offsets: tuple[timedelta, ...] = (
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(hours=3),
        timedelta(hours=4),
        timedelta(hours=5),
        timedelta(hours=6),
        timedelta(hours=8),
    )
    return_check_offset: timedelta = timedelta(hours=24)
    final_answer_window: timedelta = timedelta(hours=4)
    nudge_after: timedelta = timedelta(minutes=10)
    silence_alert_after: timedelta = timedelta(hours=2)
    # A prompt, nudge or silence check later than this (the worker was down, or the block was recorded late)
    # has missed its moment: the latest missed prompt is sent once, without its nudge, unless the diary has
    # closed; the rest are dropped (domain.diary_catch_up).
    missed_after: timedelta = timedelta(minutes=10)
    repeat_blocks_allowed: int = 1


class PathwayConfig(BaseModel):
    """Timings, limits and deadlines of one pathway."""

    model_config = ConfigDict(frozen=True)

    profile: Profile = "clinical"
    relief: ReliefPolicy = Field(default_factory=ReliefPolicy)
    mri_max_age: timedelta = timedelta(days=365)
    # Clinician deadlines, counted from the end of the step's appointment (or from when the step became due).
    screening_review_due: timedelta = timedelta(days=3)
    mri_review_due: timedelta = timedelta(days=3)
    exam_result_due: timedelta = timedelta(days=1)
    block_record_due: timedelta = timedelta(days=1)
    candidacy_decision_due: timedelta = timedelta(days=3)
    procedure_record_due: timedelta = timedelta(days=1)
    deadlines_follow_calendar: bool = True
    # A positive or prolonged first block (lidocaine) is followed on another day by a second (bupivacaine);
    # the pair's concordance is shown at candidacy (domain.comparative_blocks).
    comparative_blocks: bool = False
    max_no_show_rebookings: int = 2
    max_cancellation_rebookings: int = 3
    # A booking that finds no slot is tried `booking_tries` times, `booking_retry_after` apart; then staff.
    booking_tries: int = 3
    booking_retry_after: timedelta = timedelta(days=1)
    # Reminders: the day before at a local hour, and shortly before.
    reminder_local_hour: int = 17
    reminder_before: timedelta = timedelta(hours=2)
    # A reminder later than this (the worker was down) has missed its moment and is dropped.
    reminder_missed_after: timedelta = timedelta(minutes=30)
    # Follow-up: the day after the procedure at a local hour, or after a fixed delay when not on the calendar.
    follow_up_local_hour: int = 10
    follow_up_delay: timedelta = timedelta(days=1)
    # The next-day check-in unanswered: a reminder, a staff call task, then not obtained (domain.check_ins).
    follow_up_check_in: CheckInTimes = CheckInTimes(
        reminder_after=timedelta(hours=4), answer_window=timedelta(hours=8), final_deadline=timedelta(days=3)
    )
    # Outcome check-ins after the follow-up, on the day this long after the procedure, at the follow-up hour
    # (from the start of the outcomes stage when waits do not follow the calendar: the demo).
    outcome_check_ins: tuple[tuple[CheckInName, timedelta], ...] = (
        ("2_weeks", timedelta(days=14)),
        ("6_weeks", timedelta(days=42)),
        ("3_months", timedelta(days=91)),
        ("6_months", timedelta(days=182)),
        ("12_months", timedelta(days=365)),
    )
    outcome_check_in: CheckInTimes = CheckInTimes(
        reminder_after=timedelta(days=2), answer_window=timedelta(days=4), final_deadline=timedelta(days=10)
    )
    # Routine patient messages wait out these local hours (domain/quiet_hours.py). None by default, so a
    # pathway that started before quiet hours existed replays as it ran; a clinic's policy sets them.
    quiet_hours: QuietHours | None = None

    def compressed(self, factor: int) -> "PathwayConfig":
        """The same pathway with every wait divided by `factor`."""
        relief = self.relief
        return self.model_copy(
            update={
                "relief": relief.model_copy(
                    update={
                        "min_run_duration": relief.min_run_duration / factor,
                        "onset_window": relief.onset_window / factor,
                        "run_start_within": relief.run_start_within / factor,
                        "answer_tolerance": relief.answer_tolerance / factor,
                        "prompt_offsets": tuple(o / factor for o in relief.prompt_offsets),
                        "return_check_offset": relief.return_check_offset / factor,
                        "final_answer_window": relief.final_answer_window / factor,
                        "nudge_after": relief.nudge_after / factor,
                        "silence_alert_after": relief.silence_alert_after / factor,
                        "missed_after": relief.missed_after / factor,
                    }
                ),
                "screening_review_due": self.screening_review_due / factor,
                "mri_review_due": self.mri_review_due / factor,
                "exam_result_due": self.exam_result_due / factor,
                "block_record_due": self.block_record_due / factor,
                "candidacy_decision_due": self.candidacy_decision_due / factor,
                "procedure_record_due": self.procedure_record_due / factor,
                "booking_retry_after": self.booking_retry_after / factor,
                "reminder_before": self.reminder_before / factor,
                "reminder_missed_after": self.reminder_missed_after / factor,
                "follow_up_delay": self.follow_up_delay / factor,
                "follow_up_check_in": self.follow_up_check_in.compressed(factor),
                "outcome_check_ins": tuple((name, at / factor) for name, at in self.outcome_check_ins),
                "outcome_check_in": self.outcome_check_in.compressed(factor),
            }
        )


CLINICAL = PathwayConfig()

# One clinical hour is five demo seconds (so a person with curl can answer a diary prompt in time), the
# return check comes after a minute, and deadlines count from now rather than from real calendar slots: a
# whole pathway, diary prompts included, runs on the dev server in well under two minutes. The outcome
# check-ins run within one further minute, each closing before the next opens.
DEMO_FACTOR = 720


def demo_of(clinical: PathwayConfig) -> PathwayConfig:
    """The demo profile of a clinical configuration (a clinic's policy applied to it, say)."""
    compressed = clinical.compressed(DEMO_FACTOR)
    return compressed.model_copy(
        update={
            "profile": "demo",
            "deadlines_follow_calendar": False,
            "follow_up_delay": timedelta(seconds=5),
            "outcome_check_ins": tuple(
                (name, timedelta(seconds=5 + 10 * n))
                for n, (name, _) in enumerate(clinical.outcome_check_ins)
            ),
            "outcome_check_in": CheckInTimes(
                reminder_after=timedelta(seconds=3),
                answer_window=timedelta(seconds=6),
                final_deadline=timedelta(seconds=9),
            ),
            "relief": compressed.relief.model_copy(
                update={
                    "return_check_offset": timedelta(seconds=60),
                    "final_answer_window": timedelta(seconds=15),
                }
            ),
        }
    )


DEMO = demo_of(CLINICAL)


def config_for(profile: Profile, relief_threshold: ReliefThreshold | None = None) -> PathwayConfig:
    """The configuration of a profile, with the relief threshold the clinic selected."""
    config = DEMO if profile == "demo" else CLINICAL
    if relief_threshold is not None:
        relief = ReliefPolicy.model_validate({**config.relief.model_dump(), "threshold": relief_threshold})
        config = config.model_copy(update={"relief": relief})
    return config
