"""The pathway configuration and its two timing profiles."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import CLINICAL, DEMO, DEMO_FACTOR, PathwayConfig, Profile, ReliefThreshold, config_for

FACTOR = DEMO_FACTOR

# Every wait that the demo profile compresses, read from a configuration.
WAITS = (
    "mri_review_due",
    "exam_result_due",
    "block_record_due",
    "candidacy_decision_due",
    "procedure_record_due",
    "booking_retry_after",
    "reminder_before",
    "follow_up_answer_window",
)
RELIEF_WAITS = ("positive_window", "nudge_after", "silence_alert_after")


def test_demo_return_check_comes_within_a_minute() -> None:
    assert DEMO.relief.return_check_offset == timedelta(seconds=60)
    assert DEMO.relief.return_check_offset > DEMO.relief.prompt_offsets[-1]
    assert DEMO.relief.final_answer_window == timedelta(seconds=15)


def test_clinical_defaults_follow_the_design() -> None:
    relief = CLINICAL.relief
    assert CLINICAL.profile == "clinical"
    assert CLINICAL.deadlines_follow_calendar
    assert relief.threshold == 0.8
    assert relief.min_baseline == 3
    assert relief.min_reports == 3
    assert relief.consecutive_at_threshold == 2
    assert relief.positive_window == timedelta(hours=6)
    assert relief.returned_below == 0.5
    assert relief.prompt_offsets == (
        timedelta(minutes=15),
        timedelta(minutes=30),
        *(timedelta(hours=h) for h in (1, 2, 3, 4, 5, 6, 8)),
    )
    assert relief.return_check_offset == timedelta(hours=24)
    assert relief.silence_alert_after == timedelta(hours=2)
    assert relief.repeat_blocks_allowed == 1
    assert CLINICAL.max_no_show_rebookings == 2
    assert CLINICAL.reminder_before == timedelta(hours=2)
    assert CLINICAL.follow_up_local_hour == 10
    assert CLINICAL.follow_up_delay == timedelta(days=1)


def test_demo_is_the_demo_profile() -> None:
    assert DEMO.profile == "demo"
    assert not DEMO.deadlines_follow_calendar


def test_demo_relief_prompts_are_compressed_by_the_demo_factor() -> None:
    assert len(DEMO.relief.prompt_offsets) == len(CLINICAL.relief.prompt_offsets)
    for demo, clinical in zip(DEMO.relief.prompt_offsets, CLINICAL.relief.prompt_offsets, strict=True):
        assert demo * FACTOR == clinical
    assert DEMO.relief.prompt_offsets[0] == timedelta(seconds=1.25)
    assert DEMO.relief.prompt_offsets[-1] == timedelta(seconds=40)


@pytest.mark.parametrize("name", RELIEF_WAITS)
def test_demo_relief_waits_are_compressed(name: str) -> None:
    demo: timedelta = getattr(DEMO.relief, name)
    clinical: timedelta = getattr(CLINICAL.relief, name)
    assert demo == clinical / FACTOR
    assert demo < clinical


@pytest.mark.parametrize("name", WAITS)
def test_demo_waits_are_compressed(name: str) -> None:
    demo: timedelta = getattr(DEMO, name)
    clinical: timedelta = getattr(CLINICAL, name)
    assert demo == clinical / FACTOR
    assert demo < clinical


def test_demo_keeps_the_clinical_rules() -> None:
    for name in ("threshold", "min_baseline", "min_reports", "consecutive_at_threshold", "returned_below"):
        assert getattr(DEMO.relief, name) == getattr(CLINICAL.relief, name)
    assert DEMO.max_no_show_rebookings == CLINICAL.max_no_show_rebookings
    assert DEMO.reminder_local_hour == CLINICAL.reminder_local_hour
    assert DEMO.follow_up_local_hour == CLINICAL.follow_up_local_hour


def test_demo_follow_up_delay_is_seconds() -> None:
    assert DEMO.follow_up_delay == timedelta(seconds=5)


def test_demo_relief_check_fits_in_under_two_minutes() -> None:
    relief = DEMO.relief
    assert relief.return_check_offset + relief.final_answer_window < timedelta(minutes=2)


def test_compressing_leaves_the_original_alone() -> None:
    compressed = CLINICAL.compressed(60)
    assert compressed.relief.positive_window == timedelta(minutes=6)
    assert CLINICAL.relief.positive_window == timedelta(hours=6)
    assert PathwayConfig() == CLINICAL


@pytest.mark.parametrize("profile", ["clinical", "demo"])
def test_config_for_without_threshold_is_the_profile(profile: Profile) -> None:
    assert config_for(profile) == (DEMO if profile == "demo" else CLINICAL)


@given(profile=st.sampled_from(["clinical", "demo"]), threshold=st.sampled_from([0.5, 0.8, 1.0]))
def test_config_for_applies_the_relief_threshold(profile: Profile, threshold: ReliefThreshold) -> None:
    config = config_for(profile, threshold)
    base = DEMO if profile == "demo" else CLINICAL
    assert config.profile == profile
    assert config.relief.threshold == threshold
    # Nothing else changes.
    assert config.relief.model_copy(update={"threshold": base.relief.threshold}) == base.relief
    assert config.model_copy(update={"relief": base.relief}) == base
    # The shared profile objects are not mutated.
    assert CLINICAL.relief.threshold == 0.8
    assert DEMO.relief.threshold == 0.8


def test_configs_are_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        CLINICAL.relief.threshold = 0.5  # type: ignore[misc]
    with pytest.raises(ValueError, match="frozen"):
        DEMO.profile = "clinical"  # type: ignore[misc]


def test_unsupported_threshold_is_rejected() -> None:
    with pytest.raises(ValueError, match="threshold"):
        PathwayConfig.model_validate({"relief": {"threshold": 0.7}})


def test_config_round_trips_through_json() -> None:
    # A workflow receives its configuration in its input.
    for config in (CLINICAL, DEMO, config_for("demo", 1.0)):
        assert PathwayConfig.model_validate_json(config.model_dump_json()) == config
