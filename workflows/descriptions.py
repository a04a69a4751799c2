"""What each workflow says about itself in the Temporal UI: its static summary and details, set when it
starts, in plain words for operations staff.

Only the pathway's shape and its clinic's policy: no PHI (the patient is the opaque `patient_ref`) and no
clinical values (pain scores, levels, answers), which belong to the history the codec encrypts. What a
pathway is doing now is its current details (workflows/status_board.py).
"""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.config import PathwayConfig, ReliefPolicy
    from domain.inputs import PathwayInput

STAGES = (
    ("intake", "the referral is screened for typical facet-joint pain"),
    ("mri", "a recent MRI is reviewed for swollen facet joints (one is booked if none is on file)"),
    ("exam", "a physician examines the patient: pressing on the joint reproduces the usual pain"),
    ("block", "a medial branch block (MBB) is booked and performed"),
    ("relief_check", "the patient keeps a timed pain diary after the block (a relief check child workflow)"),
    ("candidacy", "a clinician approves or declines the DVR, with the four criteria shown"),
    ("dvr_scheduled", "the Direct Visual Rhizotomy is booked and performed"),
    ("follow_up", "the next day: pain, return to work, red flags"),
    ("outcomes", "check-ins after the procedure (an outcome check-ins child workflow)"),
)


def pathway_summary(pathway: PathwayInput) -> str:
    return f"DVR pathway at {pathway.clinic_site} ({pathway.config.profile} timing)"


def pathway_details(pathway: PathwayInput) -> str:
    config = pathway.config
    stages = "\n".join(f"{n}. `{stage}`: {words}" for n, (stage, words) in enumerate(STAGES, start=1))
    policy = f"version {pathway.policy_version}" if pathway.policy_version is not None else "the defaults"
    return "\n\n".join(
        [
            "One patient's pathway towards Direct Visual Rhizotomy (DVR) for facet-joint low back pain, from"
            " the referral to the last outcome check-in. It waits for each clinician's step, books the"
            " appointments, reminds the patient, and raises NeedsAttention when a person must act.",
            f"**Stages** (the PathwayStage search attribute), then `completed` or `closed`:\n\n{stages}",
            f"**Clinic policy** ({policy}): {_relief_words(config.relief)}; comparative blocks"
            f" {'on' if config.comparative_blocks else 'off'}; outcome check-ins at {_check_ins(config)}.",
            f"**Patient:** ref `{pathway.patient_ref}`. Contact details are only in the clinic's patient"
            " registry: `dvr-admin patient show <this workflow id> --reason ...` (audited).",
        ]
    )


def relief_check_details(pathway_id: str, block_number: int, policy: ReliefPolicy) -> str:
    prompts = ", ".join(f"+{_span(offset)}" for offset in policy.prompt_offsets)
    return (
        f"The pain diary after medial branch block {block_number} of pathway `{pathway_id}`: prompts at"
        f" {prompts} after the block, then a +{_span(policy.return_check_offset)} check that the usual pain"
        f" came back. {_sentence(_relief_words(policy))}. Its verdict (positive, prolonged, negative or"
        " indeterminate) goes back to the pathway, where a clinician decides candidacy."
    )


def outcome_check_ins_details(pathway_id: str, config: PathwayConfig) -> str:
    return (
        f"The outcome check-ins of pathway `{pathway_id}` after the DVR, at {_check_ins(config)}: pain, work"
        " status, the patient's impression of change (PGIC) and red flags. A check-in nobody answers is"
        " reminded, then becomes a staff call, then is recorded as not obtained."
    )


def _relief_words(policy: ReliefPolicy) -> str:
    return (
        f"relief is {policy.threshold:.0%} or more of the baseline pain gone, for at least"
        f" {_span(policy.min_run_duration)}, starting within {_span(policy.onset_window)} of the block"
    )


def _sentence(words: str) -> str:
    return words[:1].upper() + words[1:]


def _check_ins(config: PathwayConfig) -> str:
    return ", ".join(name.replace("_", " ") for name, _ in config.outcome_check_ins)


def _span(duration: timedelta) -> str:
    """`15 min`, `2 h`, `1 h 30 min`, `3 s` (the demo profile's waits are seconds)."""
    seconds = duration.total_seconds()
    if seconds < 60:
        return f"{seconds:g} s"
    hours, minutes = divmod(int(seconds) // 60, 60)
    return " ".join(
        part for part in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "") if part
    )
