"""Reading a patient's text: carrier keywords, pain scores, numbers in E.164; the answers' texts."""

import pytest
from pydantic import ValidationError

from activities.messages import sms_segments
from api import sms_reply_texts
from config.settings import Settings
from domain.phones import e164
from domain.sms_keywords import Keyword, Other, PainScore, read_reply


@pytest.mark.parametrize(
    ("body", "read"),
    [
        *(
            (word, Keyword.STOP)
            for word in ("STOP", "stop", " Stop ", "STOPALL", "unsubscribe", "CANCEL", "End", "quit")
        ),
        *((word, Keyword.START) for word in ("START", "start\n", "UNSTOP")),
        *((word, Keyword.HELP) for word in ("HELP", " help", "Info")),
        *((word, Keyword.RESCHEDULE) for word in ("R", " r ", "Reschedule")),
        ("0", PainScore(0)),
        (" 3 ", PainScore(3)),
        ("10", PainScore(10)),
        ("11", Other()),
        ("-1", Other()),
        ("3/10", Other()),
        ("03", Other()),
        ("3.5", Other()),
        ("three", Other()),
        ("stop please", Other()),
        ("hello", Other()),
        ("", Other()),
    ],
)
def test_a_text_is_read_as_a_keyword_a_score_or_neither(body: str, read: object) -> None:
    assert read_reply(body) == read


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("+16025550100", "+16025550100"),
        ("+1 (602) 555-0100", "+16025550100"),
        ("+1-602-555-0100", "+16025550100"),
        ("+4407700900123", "+447700900123"),  # the national trunk 0 after the country code goes
        ("6025550100", None),  # no country code: no region is guessed
        ("+999", None),
        ("+1602", None),
        ("not a number", None),
        ("", None),
    ],
)
def test_numbers_are_compared_in_e164(given: str, normalised: str | None) -> None:
    assert e164(given) == normalised


def test_every_answer_is_written_and_fits_one_segment() -> None:
    sms_reply_texts.check_texts()
    longest_phone = "+441234567890123"  # E.164 allows 15 digits
    answers = [
        sms_reply_texts.answer(name, lang, clinic_phone=longest_phone)
        for name in sms_reply_texts.CONVERSATION
        for lang in ("en", "es")
    ]
    answers += [
        sms_reply_texts.keyword_answer(
            name, clinic="Phoenix Spine & Joint (demo)", clinic_phone=longest_phone
        )
        for name in sms_reply_texts.KEYWORD_ANSWERS
    ]
    for text in answers:
        assert sms_segments(text) == ("GSM-7", 1), text


def test_the_webhook_waits_for_temporal_well_within_the_gateways_15_seconds() -> None:
    """Twilio gives a webhook 15 s for all its attempts: a first 503 must leave time for the second."""
    assert Settings().sms_inbound_wait_seconds <= 6
    with pytest.raises(ValidationError):
        Settings(sms_inbound_wait_seconds=15)


def test_a_patient_with_nothing_open_and_a_refused_score_are_answered() -> None:
    """Anything a known patient texts gets one short reply: nothing open, or a score the diary refused."""
    assert {"nothing_open", "nothing_open_no_phone", "not_recorded"} <= sms_reply_texts.CONVERSATION
    assert "+16025550111" in sms_reply_texts.answer("nothing_open", "es", clinic_phone="+16025550111")
