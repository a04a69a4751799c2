"""Which consent (domain/consents.py) each patient message falls under.

A patient who declined a category gets none of its messages: each is recorded as suppressed, "declined", and
the workflow is told so (not that the patient is unreachable: the patient chose it). Some messages are never
withheld by a category (`ALWAYS_SENT`), though they still need a channel the patient agreed to:

- `red_flag_advice` is urgent advice (call 911, go to the emergency department) after the patient reported
  warning signs; withholding it could harm them, and no category they declined was about it.
- `not_candidate` and `pathway_closed` are the clinic's answer about the patient's care: that the pathway
  ends, and why. A patient who declined reminders or check-ins still learns that their care has changed.

tests/unit/test_message_categories.py checks that every patient template is in exactly one category or in
`ALWAYS_SENT`.
"""

from domain.consents import ConsentCategory

CATEGORIES: dict[ConsentCategory, frozenset[str]] = {
    ConsentCategory.APPOINTMENTS: frozenset(
        {"appointment_booked", "appointment_reminder", "block_preparation", "preop_instructions"}
    ),
    ConsentCategory.DIARY: frozenset({"diary_prompt", "diary_nudge", "return_check"}),
    ConsentCategory.FOLLOW_UP: frozenset({"follow_up_checkin", "outcome_check_in", "check_in_reminder"}),
}
"""The patient templates each declinable kind of message covers (`email` is a channel, not a kind)."""

ALWAYS_SENT = frozenset({"red_flag_advice", "not_candidate", "pathway_closed"})
"""Patient templates no category withholds (the module's docstring says why)."""

CATEGORY_OF: dict[str, ConsentCategory] = {
    template: category for category, templates in CATEGORIES.items() for template in templates
}


def declined_by(template: str, declined: frozenset[ConsentCategory]) -> bool:
    """Whether the patient declined the category of the patient template `template`."""
    category = CATEGORY_OF.get(template)
    return category is not None and category in declined
