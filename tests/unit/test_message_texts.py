"""What the patient is told: a diagnostic block's preparation, and every red flag at the check-in."""

from activities.messages import render
from domain.notifications import Recipient


def _body(template: str) -> str:
    return render(template, Recipient.PATIENT, {"when": "Mon 2 Dec 09:00"}, "Ada")[1].lower()


def test_block_preparation_is_a_diagnostic_blocks() -> None:
    text = _body("block_preparation")
    for instruction in (
        "usual pain",
        "avoid pain medication for the hours of the pain diary",
        "usual activities that bring your pain on",
        "answer each diary message",
    ):
        assert instruction in text


def test_the_follow_up_check_in_names_every_red_flag_and_what_to_do() -> None:
    text = _body("follow_up_checkin")
    # One phrase per red flag of domain/results.py RedFlag.
    for flag in (
        "weakness",
        "numbness",
        "bladder or bowel",
        "fever",
        "wound drainage or redness",
        "severe pain",
    ):
        assert flag in text
    assert "emergency care" in text
    assert "call the clinic" in text
