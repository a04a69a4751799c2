"""Consent decisions: the latest per category is in force, granted by default; requests are strict."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from domain.consents import ConsentCategory, ConsentDecision, Consents, ConsentSource, in_force

AT = datetime(2025, 3, 1, 9, tzinfo=UTC)


def _decision(
    category: ConsentCategory, granted: bool, minutes: int, source: ConsentSource
) -> ConsentDecision:
    return ConsentDecision(category, granted, AT + timedelta(minutes=minutes), source)


def test_no_decision_grants_every_category() -> None:
    assert in_force([]) == dict.fromkeys(ConsentCategory, True)


def test_the_latest_decision_per_category_is_in_force() -> None:
    decisions = [
        _decision(ConsentCategory.DIARY, False, 0, ConsentSource.REFERRAL),
        _decision(ConsentCategory.EMAIL, False, 0, ConsentSource.REFERRAL),
        _decision(ConsentCategory.DIARY, True, 5, ConsentSource.API),
        _decision(ConsentCategory.FOLLOW_UP, False, 9, ConsentSource.API),
    ]
    assert in_force(decisions) == {
        ConsentCategory.APPOINTMENTS: True,
        ConsentCategory.DIARY: True,
        ConsentCategory.FOLLOW_UP: False,
        ConsentCategory.EMAIL: False,
    }


def test_order_not_the_clock_decides_which_is_latest() -> None:
    # Rows are read in the order they were written; two at one instant still have a latest.
    decisions = [
        _decision(ConsentCategory.DIARY, True, 0, ConsentSource.API),
        _decision(ConsentCategory.DIARY, False, 0, ConsentSource.API),
    ]
    assert in_force(decisions)[ConsentCategory.DIARY] is False


def test_a_request_names_only_the_categories_it_decides() -> None:
    consents = Consents.model_validate({"diary": False, "email": True})
    assert consents.decisions() == {ConsentCategory.DIARY: False, ConsentCategory.EMAIL: True}


@pytest.mark.parametrize(
    "body",
    [{"sms": False}, {"diary": None}, {"diary": "no"}, {"diary": 0}, {"Diary": False}],
)
def test_unknown_categories_and_other_values_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Consents.model_validate(body)
