"""What a patient's text message says, read as the orchestrator acts on it.

The carriers' keywords (STOP and its synonyms, START, HELP) are whole messages, compared without regard to
case or surrounding spaces, as gateways and carriers read them. A pain score is a whole number from 0 to 10 on
its own ("3", " 7 "; "3/10" is not one: a reply that is not plainly a score is never guessed at).
"""

import re
from dataclasses import dataclass
from enum import StrEnum


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    RESCHEDULE = "reschedule"
    """The patient asks to move their next appointment (CANCEL is the carriers' STOP, so not that)."""


KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), Keyword.STOP),
    **dict.fromkeys(("START", "UNSTOP"), Keyword.START),
    **dict.fromkeys(("HELP", "INFO"), Keyword.HELP),
    **dict.fromkeys(("R", "RESCHEDULE"), Keyword.RESCHEDULE),
}

_SCORE = re.compile(r"(?:10|[0-9])")


@dataclass(frozen=True)
class PainScore:
    pain: int


@dataclass(frozen=True)
class Other:
    """Anything else: never stored, answered at most with a short help reply."""


Reply = Keyword | PainScore | Other


def read_reply(body: str) -> Reply:
    """The keyword, pain score, or neither, that a text message's body is."""
    text = body.strip()
    keyword = KEYWORDS.get(text.upper())
    if keyword is not None:
        return keyword
    if _SCORE.fullmatch(text):
        return PainScore(int(text))
    return Other()
