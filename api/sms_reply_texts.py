"""The orchestrator's answers to a patient's text message, read once from sms_reply_texts.toml."""

import tomllib
from pathlib import Path
from string import Template

from activities.messages import DEFAULT_LANGUAGE, LANGUAGES

_TEXTS: dict[str, dict[str, str]] = tomllib.loads(
    (Path(__file__).with_name("sms_reply_texts.toml")).read_text(encoding="utf-8")
)

CONVERSATION = frozenset(
    {
        "recorded",
        "not_recorded",
        "score_please",
        "answer_with_link",
        "use_link",
        "reschedule_requested",
        "nothing_open",
        "nothing_open_no_phone",
    }
)
KEYWORD_ANSWERS = frozenset({"stopped", "started", "help", "help_no_phone", "help_generic"})


def keyword_answer(name: str, *, clinic: str = "", clinic_phone: str = "") -> str:
    """The answer to STOP, START or HELP: the same whoever sends it (both languages at once)."""
    return Template(_TEXTS["keywords"][name]).substitute(clinic=clinic, clinic_phone=clinic_phone)


def answer(name: str, language: str, *, clinic_phone: str = "") -> str:
    """An answer to a patient, in their language (English when it has none)."""
    texts = _TEXTS[language if language in LANGUAGES else DEFAULT_LANGUAGE]
    return Template(texts[name]).substitute(clinic_phone=clinic_phone)


def check_texts() -> None:
    """Every answer exists in every language: called by the tests, so a mistaken edit fails them."""
    missing = KEYWORD_ANSWERS - _TEXTS["keywords"].keys()
    missing |= {f"{lang}.{name}" for lang in LANGUAGES for name in CONVERSATION - _TEXTS[lang].keys()}
    if missing:
        raise ValueError(f"sms_reply_texts.toml lacks {sorted(missing)}")
