"""The link page's choice of messages: shown as the consents in force, in either language, on a page with or
without a question; its form read into only the categories the patient changed."""

import re
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest

from api.link_answers import FormError
from api.link_consents import read_choices
from api.pages.link_page import Shown, link_page
from domain.consents import ConsentCategory
from domain.open_question import question_of_key

EVERY = ["appointments", "diary", "follow_up", "email"]
IN_FORCE = dict.fromkeys(ConsentCategory, True) | {ConsentCategory.EMAIL: False}


def _page(shown: Shown, language: str = "en", **kwargs: Any) -> str:
    return bytes(link_page("tok", language, "America/Phoenix", shown, **kwargs).body).decode()


def _checked(html: str) -> dict[str, bool]:
    boxes = re.findall(r'<input type="checkbox" name="granted" value="(\w+)"( checked)?>', html)
    return {value: bool(checked) for value, checked in boxes}


def test_the_section_shows_the_consents_in_force_in_a_form_of_its_own() -> None:
    html = _page(Shown(), consents=IN_FORCE)
    assert "Nothing to answer now" in html  # shown when nothing is open
    assert '<section class="consents" aria-labelledby="consents-title">' in html
    assert '<h2 id="consents-title">Messages from the clinic</h2>' in html
    assert '<form method="post" action="/p/tok/consents">' in html
    assert "<legend>Which messages do you want from the clinic?</legend>" in html
    assert "<legend>How may the clinic reach you?</legend>" in html
    assert _checked(html) == {"appointments": True, "diary": True, "follow_up": True, "email": False}
    shown = re.findall(r'name="was_granted" value="(\w+)"', html)
    assert shown == ["appointments", "diary", "follow_up"]
    assert "> Pain diary prompts after your block</label>" in html
    assert "Save my choices" in html


def test_the_section_sits_below_the_open_question() -> None:
    diary = question_of_key("diary:1")
    html = _page(Shown(diary), consents=IN_FORCE)
    assert html.count("<form") == 2
    assert html.index('name="question" value="diary:1"') < html.index('action="/p/tok/consents"')
    ids = re.findall(r'name="answer_id" value="([0-9a-f-]{36})"', html)
    assert len(set(ids)) == 2  # each form its own id


def test_the_section_speaks_spanish() -> None:
    html = _page(Shown(), "es", consents=IN_FORCE)
    assert "Mensajes de la clínica" in html
    assert "¿Qué mensajes quiere recibir de la clínica?" in html
    assert "> Por correo electrónico</label>" in html
    assert "Guardar mis preferencias" in html


def test_no_consents_given_no_section() -> None:
    html = _page(Shown())
    assert "Messages from the clinic" not in html and "/consents" not in html


def _body(answer_id: str | None = None, **fields: Any) -> bytes:
    return urlencode({"answer_id": answer_id or str(uuid.uuid4()), **fields}, doseq=True).encode()


# The parametrized bodies' answer id: fixed, so that every collection of the tests names them alike.
ANSWER_ID = "5f0c8a52-7d3e-4f4e-9a53-1c2b3d4e5f60"


def test_only_the_categories_changed_on_the_form_are_read() -> None:
    form = read_choices(_body(granted=["appointments", "follow_up"], was_granted=EVERY))
    assert form.changed == {ConsentCategory.DIARY: False, ConsentCategory.EMAIL: False}
    granted_again = read_choices(_body(granted=["email"], was_granted=EVERY[:3]))
    assert granted_again.changed == {
        ConsentCategory.APPOINTMENTS: False,
        ConsentCategory.DIARY: False,
        ConsentCategory.FOLLOW_UP: False,
        ConsentCategory.EMAIL: True,
    }
    assert read_choices(_body(granted=EVERY, was_granted=EVERY)).changed == {}
    assert read_choices(_body()).changed == {}  # every box unticked, as the form showed them


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"granted=diary",
        b"answer_id=nope&granted=diary",
        urlencode({"answer_id": [ANSWER_ID] * 2}, doseq=True).encode(),
        _body(ANSWER_ID, granted=["sms"]),
        _body(ANSWER_ID, was_granted=["diary", "texts"]),
        _body(ANSWER_ID, granted=["diary\x00"]),  # only the categories' own names: never a NUL for PostgreSQL
        b"\xff\xfe",
    ],
)
def test_a_body_that_is_no_choices_form_is_refused(body: bytes) -> None:
    with pytest.raises(FormError):
        read_choices(body)
