"""Renders the HTML pages from templates/ (Jinja2, every value escaped) with one language's texts/.

A page is plain HTML and CSS, no script: it works without JavaScript, and its answers to every page say so
(`PAGE_HEADERS`: no script may run, nothing is cached or framed, and the link's token, which is in the page's
address, is never sent on as a referrer).
"""

import tomllib
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from activities.messages import CATALOG
from domain.appointments import Appointment
from domain.reminders import local_text

_HERE = Path(__file__).parent
LANGUAGES = ("en", "es")
"""The languages pages are written in; the first is the fallback."""

_ENV = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,  # a text missing in one language is an error, not a blank
    trim_blocks=True,
    lstrip_blocks=True,
)

TEXTS: dict[str, dict[str, Any]] = {
    language: tomllib.loads((_HERE / "texts" / f"{language}.toml").read_text(encoding="utf-8"))
    for language in LANGUAGES
}

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none';"
        " base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}


def language_of(preferred: str | None) -> str:
    return preferred if preferred in LANGUAGES else LANGUAGES[0]


def texts(language: str) -> dict[str, Any]:
    return TEXTS[language_of(language)]


def appointment_words(appointment: Appointment, language: str, timezone: str) -> dict[str, str]:
    """The appointment's kind and local time as the patient's messages write them (activities/templates/
    patient/{language}/words.toml), e.g. {"kind": "physical exam", "when": "Tue 25 Nov 09:30 MST"}."""
    words = CATALOG.words[language_of(language)]
    return {
        "kind": words.translate("kind_label", appointment.kind.value),
        "when": words.translate("when", local_text(appointment.starts_at, timezone)),
    }


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page `template` rendered with `context` (which names its `lang` and `title`)."""
    html = _ENV.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
