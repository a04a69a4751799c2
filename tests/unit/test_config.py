"""The pathway configuration and its two timing profiles.

The waits of a configuration are found by walking its fields (into the relief policy too), so a wait added to
`PathwayConfig` or `ReliefPolicy` is covered by these tests without editing them.
"""

import typing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from domain.config import CLINICAL, DEMO, PathwayConfig, Profile, ReliefThreshold, config_for
from domain.relief import diary_schedule, diary_window_end
from domain.reminders import follow_up_time

# Durations of the configuration that are not waits, so neither compressing nor the demo profile shortens
# them. Each says why.
NOT_WAITS = {
    # An MRI older than this is not reviewed but repeated: a clinical age limit on a study, compared with
    # real dates (a demo referral's MRI is as old in the demo as in the clinic), not something the pathway
    # waits for.
    "mri_max_age",
}
# Settings that the demo profile changes on purpose, besides its waits.
DEMO_SWITCHES = {
    "profile",
    # Waits count from entering a step and the follow-up comes after a fixed delay, not at calendar hours.
    "deadlines_follow_calendar",
}

profiles_st = st.sampled_from(["clinical", "demo"])
thresholds_st = st.sampled_from([0.5, 0.8, 1.0])
configs_st = st.builds(config_for, profiles_st, thresholds_st)
instants_st = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
time_zones_st = st.sampled_from(["America/Phoenix", "America/New_York", "Europe/London", "Asia/Kolkata"])


def _mentions_timedelta(annotation: Any) -> bool:
    return annotation is timedelta or any(_mentions_timedelta(a) for a in typing.get_args(annotation))


def settings_of(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Any, bool]]:
    """(dotted name, value, is a duration) of every setting, nested policies flattened."""
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from settings_of(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value, _mentions_timedelta(field.annotation)


def waits_of(config: PathwayConfig) -> dict[str, Any]:
    return {
        name: value for name, value, duration in settings_of(config) if duration and name not in NOT_WAITS
    }


def others_of(config: PathwayConfig) -> dict[str, Any]:
    return {name: value for name, value, duration in settings_of(config) if not duration or name in NOT_WAITS}


def divided(wait: Any, factor: int) -> Any:
    """A wait (a duration, or a tuple of them) divided by `factor`."""
    if isinstance(wait, tuple):
        return tuple(divided(w, factor) for w in wait)
    if wait is None or isinstance(wait, str):  # a check-in's name beside its wait
        return wait
    assert isinstance(wait, timedelta)
    return wait / factor


def shorter(demo: Any, clinical: Any) -> bool:
    if isinstance(demo, tuple):
        return len(demo) == len(clinical) and all(shorter(d, c) for d, c in zip(demo, clinical, strict=True))
    if isinstance(demo, str):  # a check-in's name beside its wait
        return bool(demo == clinical)
    assert isinstance(demo, timedelta)
    assert isinstance(clinical, timedelta)
    return demo < clinical


def test_the_configuration_has_waits_and_the_exceptions_exist() -> None:
    # Guards the introspection itself: it finds waits in both models, and every named exception is a
    # duration of the configuration (a renamed field would otherwise leave a stale exception behind).
    waits = waits_of(CLINICAL)
    assert any(name.startswith("relief.") for name in waits)
    assert any("." not in name for name in waits)
    durations = {name for name, _, duration in settings_of(CLINICAL) if duration}
    assert durations >= NOT_WAITS
    assert {name for name, _, _ in settings_of(CLINICAL)} >= DEMO_SWITCHES


@given(config=configs_st, factor=st.integers(min_value=1, max_value=100_000))
def test_compressing_divides_every_wait_and_nothing_else(config: PathwayConfig, factor: int) -> None:
    compressed = config.compressed(factor)
    waits, compressed_waits = waits_of(config), waits_of(compressed)
    for name, wait in waits.items():
        assert compressed_waits[name] == divided(wait, factor), f"{name} is not compressed"
    assert others_of(compressed) == others_of(config)


@given(config=configs_st)
def test_compressing_by_one_changes_nothing(config: PathwayConfig) -> None:
    assert config.compressed(1) == config


@given(factor=st.integers(min_value=2, max_value=100_000))
def test_compressing_leaves_the_original_alone(factor: int) -> None:
    before = CLINICAL.model_dump()
    CLINICAL.compressed(factor)
    assert CLINICAL.model_dump() == before == PathwayConfig().model_dump()


def test_every_demo_wait_is_shorter_than_the_clinical_one() -> None:
    demo, clinical = waits_of(DEMO), waits_of(CLINICAL)
    assert demo.keys() == clinical.keys()
    for name in clinical:
        assert shorter(demo[name], clinical[name]), f"the demo {name} is not shorter than the clinical one"


def test_demo_keeps_every_clinical_rule() -> None:
    # Thresholds, counts, local hours and the MRI age limit: a demo pathway is judged like a clinical one.
    demo, clinical = others_of(DEMO), others_of(CLINICAL)
    changed = {name for name in clinical if demo[name] != clinical[name]}
    assert changed == DEMO_SWITCHES


@given(performed_at=instants_st)
def test_demo_relief_check_runs_in_under_two_minutes(performed_at: datetime) -> None:
    # From the block: every diary prompt, the return check, and the time left to answer it.
    schedule = diary_schedule(performed_at, DEMO.relief)
    end = diary_window_end(performed_at, DEMO.relief)
    assert schedule == sorted(schedule)
    assert performed_at < schedule[0]
    assert schedule[-1] < end
    assert end - performed_at < timedelta(minutes=2)


@given(done=instants_st, tz=time_zones_st)
def test_clinical_follow_up_follows_the_calendar(done: datetime, tz: str) -> None:
    # The next day at the clinic's local hour: when it comes depends on the patient's time zone and the time
    # of day the procedure ended, and it never comes the same day.
    follow_up = follow_up_time(done, tz, CLINICAL)
    local = follow_up.astimezone(ZoneInfo(tz))
    assert (local.hour, local.minute) == (CLINICAL.follow_up_local_hour, 0)
    assert local.date() > done.astimezone(ZoneInfo(tz)).date()


@given(done=instants_st, tz=time_zones_st, other_tz=time_zones_st)
def test_demo_follow_up_ignores_the_calendar(done: datetime, tz: str, other_tz: str) -> None:
    # A fixed, short delay after the procedure, the same in every time zone and at any hour.
    follow_up = follow_up_time(done, tz, DEMO)
    assert follow_up == follow_up_time(done, other_tz, DEMO)
    assert done < follow_up < done + timedelta(minutes=1)


@pytest.mark.parametrize("profile", ["clinical", "demo"])
def test_config_for_without_threshold_is_the_profile(profile: Profile) -> None:
    assert config_for(profile) == (DEMO if profile == "demo" else CLINICAL)


@given(profile=profiles_st, threshold=thresholds_st)
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


@pytest.mark.parametrize("threshold", [0.0, 0.7, 0.79, 0.9, 1.5])
def test_unsupported_threshold_is_rejected(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        PathwayConfig.model_validate({"relief": {"threshold": threshold}})


@given(config=configs_st, factor=st.integers(min_value=1, max_value=10_000))
def test_config_round_trips_through_json(config: PathwayConfig, factor: int) -> None:
    # A workflow receives its configuration in its input.
    for value in (config, config.compressed(factor)):
        assert PathwayConfig.model_validate_json(value.model_dump_json()) == value
