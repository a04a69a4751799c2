"""The month's mix: how often each behaviour happens, in one table, and the plan it makes for one patient.

Every probability is per patient (per appointment for a no-show, per check-in for an outcome answer). A plan
is drawn from the table with the simulation's seed, so the same seed draws the same month; what the clinic's
stack does with it (timings under load) still varies from run to run.
"""

import random
from dataclasses import dataclass
from typing import Literal

MIX: dict[str, float] = {
    # referral and clinical findings
    "fails_screen": 0.06,  # a referral that fails criterion 1: a clinician reviews it
    "screen_review_closes": 0.3,  # ... and closes it not_candidate
    "no_recent_mri": 0.10,  # no MRI on file: one is booked first
    "mri_without_swelling": 0.05,  # closed not_candidate at the MRI review
    "exam_not_concordant": 0.05,  # closed not_candidate at the exam
    "block_negative": 0.15,  # the diary shows no run of relief
    "block_prolonged": 0.05,  # relief still there at the last prompt: the clinician decides
    "clinician_declines": 0.05,  # a positive block, and the clinician declines
    # people
    "late_clinician": 0.20,  # one clinician step recorded after its due time
    "no_show": 0.08,  # per booked appointment (exam, block, DVR): staff record a no-show, it is rebooked
    "serial_no_show": 0.03,  # misses every appointment of one kind: closed no_show after the rebookings
    "silent_patient": 0.10,  # answers nothing: no diary, no check-ins (staff call, or not obtained)
    "answers_by_sms": 0.50,  # of those who answer the diary, by text; the rest by their link
    "outcome_answered": 0.70,  # per outcome check-in, by link; else staff call (or it is not obtained)
    "staff_reach_patient": 0.60,  # a staff call that reaches the patient, with answers
    "withdraws": 0.05,  # withdraws at a random point of the pathway
    "change_request": 0.08,  # asks to move an appointment (by link, or by text R), staff act on it
    "red_flag": 0.06,  # red flags at the next-day follow-up: staff record how they were handled
}

Stage = Literal["mri", "exam", "block", "relief_check", "candidacy", "dvr_scheduled", "follow_up", "outcomes"]
WITHDRAW_STAGES: tuple[Stage, ...] = ("mri", "exam", "block", "relief_check", "candidacy", "dvr_scheduled")
LATE_STEPS = ("mri_review", "exam", "block", "candidacy_decision", "procedure")
APPOINTMENT_KINDS = ("exam", "block", "dvr")
Diary = Literal["positive", "negative", "prolonged"]


@dataclass(frozen=True)
class Plan:
    """What one synthetic patient, and the clinicians and staff around them, will do."""

    index: int
    fails_screen: bool
    screen_review_closes: bool
    no_recent_mri: bool
    mri_swelling: bool
    exam_concordant: bool
    diary: Diary
    clinician_declines: bool
    late_step: str | None
    """The clinician step recorded after its due time, if any."""
    no_show_kinds: frozenset[str]
    serial_no_show: str | None
    """The appointment kind missed every time (closed no_show), if any."""
    silent: bool
    by_sms: bool
    outcome_answers: tuple[bool, ...]
    staff_reach: bool
    withdraw_at: Stage | None
    change_request: str | None
    """'link' or 'sms' when the patient asks to move an appointment."""
    red_flag: bool
    seed: int
    """The patient's own seed, for the small choices made while it runs (delays)."""


def plan_for(index: int, rng: random.Random, mix: dict[str, float] = MIX) -> Plan:
    """Draws one patient's plan; every draw is made, in the same order, whatever the earlier ones gave."""

    def happens(name: str) -> bool:
        return rng.random() < mix[name]

    fails_screen, screen_closes, no_mri = (
        happens("fails_screen"),
        happens("screen_review_closes"),
        happens("no_recent_mri"),
    )
    swelling, concordant = not happens("mri_without_swelling"), not happens("exam_not_concordant")
    draw = rng.random()
    diary: Diary = (
        "negative"
        if draw < mix["block_negative"]
        else "prolonged"
        if draw < mix["block_negative"] + mix["block_prolonged"]
        else "positive"
    )
    declines = happens("clinician_declines")
    late = rng.choice(LATE_STEPS) if happens("late_clinician") else None
    no_shows = frozenset(kind for kind in APPOINTMENT_KINDS if happens("no_show"))
    serial = rng.choice(APPOINTMENT_KINDS) if happens("serial_no_show") else None
    silent, by_sms = happens("silent_patient"), happens("answers_by_sms")
    outcome_answers = tuple(happens("outcome_answered") for _ in range(5))
    reach = happens("staff_reach_patient")
    withdraw = rng.choice(WITHDRAW_STAGES) if happens("withdraws") else None
    change = rng.choice(("link", "sms")) if happens("change_request") else None
    red_flag = happens("red_flag")
    return Plan(
        index=index,
        fails_screen=fails_screen,
        screen_review_closes=screen_closes,
        no_recent_mri=no_mri,
        mri_swelling=swelling,
        exam_concordant=concordant,
        diary=diary,
        clinician_declines=declines,
        late_step=late,
        no_show_kinds=no_shows,
        serial_no_show=serial,
        silent=silent,
        by_sms=by_sms,
        outcome_answers=outcome_answers,
        staff_reach=reach,
        withdraw_at=withdraw,
        change_request=change,
        red_flag=red_flag,
        seed=rng.randrange(2**32),
    )


def plans(patients: int, seed: int, mix: dict[str, float] = MIX) -> list[Plan]:
    rng = random.Random(seed)
    return [plan_for(index, rng, mix) for index in range(patients)]
