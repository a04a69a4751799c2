"""Every patient message falls under exactly one consent category, or is never withheld by one."""

from collections import Counter

from activities.message_categories import ALWAYS_SENT, CATEGORIES, CATEGORY_OF, declined_by
from activities.messages import PATIENT_PARAMS
from domain.consents import ConsentCategory


def test_every_patient_template_is_in_exactly_one_category_or_always_sent() -> None:
    placed = Counter([*ALWAYS_SENT, *(t for templates in CATEGORIES.values() for t in templates)])
    assert set(placed) == set(PATIENT_PARAMS)
    assert [t for t, times in placed.items() if times > 1] == []


def test_email_is_a_channel_not_a_kind_of_message() -> None:
    assert ConsentCategory.EMAIL not in CATEGORIES
    assert set(CATEGORIES) == set(ConsentCategory) - {ConsentCategory.EMAIL}


def test_the_categories_cover_what_the_issue_names() -> None:
    assert CATEGORY_OF["diary_prompt"] == CATEGORY_OF["return_check"] == ConsentCategory.DIARY
    assert CATEGORY_OF["outcome_check_in"] == CATEGORY_OF["check_in_reminder"] == ConsentCategory.FOLLOW_UP
    assert CATEGORY_OF["preop_instructions"] == ConsentCategory.APPOINTMENTS


def test_a_declined_category_withholds_its_messages_only() -> None:
    declined = frozenset({ConsentCategory.DIARY, ConsentCategory.EMAIL})
    assert declined_by("diary_nudge", declined)
    assert not declined_by("appointment_booked", declined)
    assert not declined_by("red_flag_advice", frozenset(ConsentCategory))
