"""Comparative blocks (a clinic policy, DESIGN.md §2): a positive or prolonged first block (lidocaine) is
followed, on another day, by a second (bupivacaine, which acts longer); the pair's concordance is shown to the
clinician at candidacy, never an automatic gate.

The pair is the pathway's first two blocks. A repeat block a clinician books later is a single block, with
any anesthetic, and no concordance of its own.
"""

from datetime import datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from domain.results import Anesthetic
from domain.stages import ReliefResult

Concordance = Literal["concordant", "discordant", "second_block_not_positive"]

PAIR_ANESTHETICS: tuple[Anesthetic, Anesthetic] = ("lidocaine", "bupivacaine")
"""The anesthetic of the pair's first and second block."""

_WITH_RELIEF = (ReliefResult.POSITIVE, ReliefResult.PROLONGED)


class BlockRelief(Protocol):
    """A block's evaluated relief check (the view's `ReliefCheckView`)."""

    @property
    def result(self) -> ReliefResult | None: ...

    @property
    def relief_duration_minutes(self) -> float | None: ...


def goes_on_to_second_block(result: ReliefResult) -> bool:
    """Whether the pair's first block is followed by the second (else candidacy, as without the mode)."""
    return result in _WITH_RELIEF


def second_block_not_before(first_block_day: datetime, clinic_timezone: str) -> datetime:
    """The start of the clinic's local day after `first_block_day`: the second block is on another day."""
    tz = ZoneInfo(clinic_timezone)
    next_day = first_block_day.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(next_day, time(0), tzinfo=tz)


def concordance(first: BlockRelief, second: BlockRelief) -> Concordance | None:
    """The pair's verdict: the second block positive or prolonged with its relief lasting longer than the
    first's is concordant, not longer discordant; a second block negative or indeterminate is
    second_block_not_positive. None when the first block was neither positive nor prolonged (no pair), or
    while the second is not yet evaluated.

    "Relief lasting" is the run's measured duration, from its first to its last report at the threshold
    (`relief_duration_minutes`). A prolonged block's relief outlasted its diary, so its measured duration is a
    lower bound; it is compared as measured all the same (a prolonged second whose run was measured shorter
    than a positive first's is discordant): the rule never guesses at relief nobody reported, and the
    clinician sees both blocks' verdicts and diaries beside it.
    """
    if first.result is None or not goes_on_to_second_block(first.result) or second.result is None:
        return None
    if second.result not in _WITH_RELIEF:
        return "second_block_not_positive"
    longer = (second.relief_duration_minutes or 0.0) > (first.relief_duration_minutes or 0.0)
    return "concordant" if longer else "discordant"
