"""The clinic policy contract and its mapping onto the pathway configuration."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.config import CLINICAL, DEMO, DEMO_FACTOR, config_for
from domain.policy import ClinicPolicy, default_policy, pathway_config
from domain.quiet_hours import QuietHours


def test_the_default_policy_maps_onto_the_profiles_with_its_quiet_hours() -> None:
    # The configuration has no quiet hours of its own (a pathway without a policy holds nothing back); a
    # clinical clinic's default policy brings 21-8, a demo clinic's none.
    assert CLINICAL.quiet_hours is None
    evenings = QuietHours(start_hour=21, end_hour=8)
    clinical = pathway_config(default_policy(profile="clinical"), "clinical")
    assert clinical == CLINICAL.model_copy(update={"quiet_hours": evenings})
    assert default_policy(profile="demo").quiet_hours is None
    assert pathway_config(default_policy(profile="demo"), "demo") == DEMO


def test_the_policys_quiet_hours_reach_the_configuration_and_may_be_turned_off() -> None:
    policy = ClinicPolicy.model_validate({"quiet_hours": {"start_hour": 22, "end_hour": 7}})
    assert pathway_config(policy, "clinical").quiet_hours == QuietHours(start_hour=22, end_hour=7)
    # A demo clinic whose policy sets quiet hours has them, in the patient's real local hours.
    assert pathway_config(policy, "demo").quiet_hours == QuietHours(start_hour=22, end_hour=7)
    off = ClinicPolicy.model_validate({"quiet_hours": None})
    assert pathway_config(off, "clinical").quiet_hours is None


@pytest.mark.parametrize("threshold", [0.5, 0.8, 1.0])
@pytest.mark.parametrize("profile", ["clinical", "demo"])
def test_the_default_threshold_is_the_deployments_as_before(threshold: float, profile: str) -> None:
    mapped = pathway_config(default_policy(threshold, profile), profile)  # type: ignore[arg-type]
    if profile == "demo":
        assert mapped == config_for(profile, threshold)  # type: ignore[arg-type]
    assert mapped.model_copy(update={"quiet_hours": None}) == config_for(profile, threshold)  # type: ignore[arg-type]


def test_the_policy_reaches_the_configuration_and_the_demo_compresses_it() -> None:
    policy = ClinicPolicy.model_validate(
        {
            "relief_threshold": 1.0,
            "comparative_blocks": True,
            "repeat_blocks_allowed": 0,
            "candidacy_decision_due": "P5D",
            "reminder_local_hour": 8,
            "follow_up_local_hour": 14,
        }
    )
    clinical = pathway_config(policy, "clinical")
    assert (clinical.relief.threshold, clinical.relief.repeat_blocks_allowed) == (1.0, 0)
    assert clinical.candidacy_decision_due == timedelta(days=5)
    assert clinical.comparative_blocks is True
    assert (clinical.reminder_local_hour, clinical.follow_up_local_hour) == (8, 14)
    demo = pathway_config(policy, "demo")
    assert demo.profile == "demo"
    assert demo.candidacy_decision_due == timedelta(days=5) / DEMO_FACTOR
    assert demo.relief.threshold == 1.0
    assert demo.comparative_blocks is True


@pytest.mark.parametrize(
    ("text", "duration"),
    [("PT2H", timedelta(hours=2)), ("P3D", timedelta(days=3)), ("P1DT2H30M15S", timedelta(1, 9015))],
)
def test_durations_are_iso_8601_both_ways(text: str, duration: timedelta) -> None:
    policy = ClinicPolicy.model_validate({"mri_review_due": text})
    assert policy.mri_review_due == duration
    assert policy.model_dump(mode="json")["mri_review_due"] == text


@given(
    st.builds(
        ClinicPolicy,
        relief_threshold=st.sampled_from([0.5, 0.8, 1.0]),
        onset_window=st.timedeltas(timedelta(minutes=15), timedelta(hours=6)).map(
            lambda d: timedelta(seconds=int(d.total_seconds()))
        ),
        mri_review_due=st.timedeltas(timedelta(hours=1), timedelta(days=30)).map(
            lambda d: timedelta(seconds=int(d.total_seconds()))
        ),
    )
)
def test_a_policy_reads_back_as_it_was_written(policy: ClinicPolicy) -> None:
    assert ClinicPolicy.model_validate_json(policy.model_dump_json()) == policy


@pytest.mark.parametrize(
    "change",
    [
        {"onset_window": "PT2H\n"},
        {"onset_window": "P"},
        {"onset_window": "PT"},
        {"onset_window": "P1DT"},
        {"onset_window": "PT10M"},
        {"mri_review_due": "P1Y"},
        {"mri_review_due": "P31D"},
        {"mri_review_due": 3600},
        {"relief_threshold": "0.8"},
        {"relief_threshold": 0.7},
        {"repeat_blocks_allowed": 4},
        {"repeat_blocks_allowed": 1.0},
        {"quiet_hours": {"start_hour": 21}},
        {"unknown": 1},
    ],
)
def test_an_invalid_policy_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ClinicPolicy.model_validate(change)


def test_quiet_hours_may_be_turned_off() -> None:
    assert ClinicPolicy.model_validate({"quiet_hours": None}).quiet_hours is None
