"""A scenario passes only when every figure that must be 0 is, its messages were settled when counted, and its
fault took effect: a worker that was never killed, or an outage that cut nothing, proves nothing."""

import pytest

from faults.checks import Outcome


def _outcome(**figures: object) -> Outcome:
    zeros: dict[str, object] = dict(lost=0, sent_twice=0, double_bookings=0, server_errors=0)
    fields = {"scenario": "s", "pathways": 2, "recovery_seconds": 1.0, **zeros, **figures}
    return Outcome(**fields)  # type: ignore[arg-type]


def test_all_zeros_with_the_fault_met_is_clean() -> None:
    assert _outcome().clean


@pytest.mark.parametrize(
    "figure",
    ["lost", "sent_twice", "double_bookings", "server_errors", "recorded_unsent", "unsettled"],
)
def test_any_figure_that_must_be_0_and_is_not_fails(figure: str) -> None:
    assert not _outcome(**{figure: 1}).clean


def test_a_fault_that_did_not_take_effect_fails() -> None:
    assert not _outcome(fault_met=False).clean
