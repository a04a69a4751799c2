"""What each workflow says about itself in the Temporal UI: the pathway's shape and policy in plain words,
the opaque patient ref, and nothing of the patient or their answers."""

import uuid

from domain.config import CLINICAL, DEMO
from domain.inputs import PathwayInput
from domain.referral import ClinicalReferral, History, Symptoms
from domain.stages import Stage
from workflows.descriptions import (
    STAGES,
    outcome_check_ins_details,
    pathway_details,
    pathway_summary,
    relief_check_details,
)


def _pathway(policy_version: int | None = 3) -> PathwayInput:
    return PathwayInput(
        patient_ref=str(uuid.uuid4()),
        clinic_site="phoenix-main",
        clinic_timezone="America/Phoenix",
        patient_timezone="America/Phoenix",
        referral=ClinicalReferral(symptoms=Symptoms(axial_low_back_pain=True), history=History(), mri=None),
        config=CLINICAL.model_copy(update={"comparative_blocks": True}),
        policy_version=policy_version,
    )


def test_the_pathway_lists_its_stages_in_order_its_policy_and_its_patient_ref() -> None:
    pathway = _pathway()
    details = pathway_details(pathway)
    assert pathway_summary(pathway) == "DVR pathway at phoenix-main (clinical timing)"
    positions = [details.index(f"`{stage}`: ") for stage, _ in STAGES]
    assert positions == sorted(positions)
    assert [stage for stage, _ in STAGES] == [s.value for s in Stage][: len(STAGES)]
    assert (
        "**Clinic policy** (version 3): relief is 80% or more of the baseline pain gone, for at least 30 min,"
        " starting within 2 h of the block; comparative blocks on; outcome check-ins at 2 weeks, 6 weeks,"
        " 3 months, 6 months, 12 months." in details
    )
    assert f"**Patient:** ref `{pathway.patient_ref}`." in details
    assert "(the defaults)" in pathway_details(_pathway(policy_version=None))


def test_the_children_say_what_they_are_in_the_profiles_units() -> None:
    assert relief_check_details("pathway-x", 2, CLINICAL.relief) == (
        "The pain diary after medial branch block 2 of pathway `pathway-x`: prompts at +15 min, +30 min,"
        " +1 h, +2 h, +3 h, +4 h, +5 h, +6 h, +8 h after the block, then a +24 h check that the usual pain"
        " came back. Relief is 80% or more of the baseline pain gone, for at least 30 min, starting within"
        " 2 h of the block. Its verdict (positive, prolonged, negative or indeterminate) goes back to the"
        " pathway, where a clinician decides candidacy."
    )
    assert "prompts at +1.25 s, +2.5 s," in relief_check_details("pathway-x", 1, DEMO.relief)
    assert outcome_check_ins_details("pathway-x", CLINICAL).startswith(
        "The outcome check-ins of pathway `pathway-x` after the DVR, at 2 weeks, 6 weeks, 3 months, 6 months,"
        " 12 months: pain, work status"
    )
