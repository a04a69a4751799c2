"""Comparative blocks (a clinic policy, DESIGN.md §2): a positive or prolonged first block (lidocaine) is
followed, on another day, by a second (bupivacaine, which acts longer); the pair's concordance is shown to the
clinician at candidacy, never an automatic gate.

The pair is the pathway's first two blocks. A repeat block a clinician books later is a single block, with
any anesthetic, and no concordance of its own.
"""

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from domain.config import ReliefPolicy
from domain.relief import DiaryEntry, evaluate_relief
from domain.results import Anesthetic
from domain.stages import ReliefResult

Concordance = Literal["concordant", "discordant", "second_block_not_positive"]

PAIR_ANESTHETICS: tuple[Anesthetic, Anesthetic] = ("lidocaine", "bupivacaine")
"""The anesthetic of the pair's first and second block."""

_WITH_RELIEF = (ReliefResult.POSITIVE, ReliefResult.PROLONGED)


class Report(Protocol):
    """A pain report in a block's diary (the view's `ReportedPain`)."""

    @property
    def at(self) -> datetime: ...

    @property
    def pain(self) -> int: ...


class BlockRelief(Protocol):
    """A block's evaluated relief check (the view's `ReliefCheckView`)."""

    @property
    def baseline_pain(self) -> int | None: ...

    @property
    def performed_at(self) -> datetime | None: ...

    @property
    def reports(self) -> Sequence[Report]: ...

    @property
    def result(self) -> ReliefResult | None: ...


def goes_on_to_second_block(result: ReliefResult) -> bool:
    """Whether the pair's first block is followed by the second (else candidacy, as without the mode)."""
    return result in _WITH_RELIEF


def second_block_not_before(first_block_day: datetime, clinic_timezone: str) -> datetime:
    """The start of the clinic's local day after `first_block_day`: the second block is on another day."""
    tz = ZoneInfo(clinic_timezone)
    next_day = first_block_day.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(next_day, time(0), tzinfo=tz)


def relief_lasted(block: BlockRelief, policy: ReliefPolicy) -> timedelta | None:
    """How long the block's relief lasted, judged on its diary by the relief rule (domain.relief): from the
    run's first report (onset) to the first report after the run with relief under `returned_below` (the
    usual pain back) when positive; to the last diary report when prolonged, a lower bound (relief outlasted
    the diary). None without a run, for a verdict neither positive nor prolonged, or before the block is
    recorded."""
    if block.baseline_pain is None or block.performed_at is None:
        return None
    performed_at = block.performed_at
    entries = [DiaryEntry(after_block=r.at - performed_at, pain=r.pain) for r in block.reports]
    return evaluate_relief(block.baseline_pain, entries, policy).relief_lasted


def concordance(first: BlockRelief, second: BlockRelief, policy: ReliefPolicy) -> Concordance | None:
    """The pair's verdict, on how long each block's relief lasted (`relief_lasted`: from onset to the usual
    pain back, not the length of the run at the threshold):

    - second_block_not_positive: the second block negative or indeterminate;
    - concordant: the second prolonged and the first positive, whatever the times (the first's relief ended
      within its diary, the second's outlasted its own: the pattern expected of bupivacaine after lidocaine);
    - otherwise (both positive, both prolonged, or a prolonged first and a positive second) concordant when
      the second's relief lasted strictly longer than the first's as measured, else discordant. A prolonged
      block's measure is a lower bound (relief outlasted its diary) and is compared as measured: two prolonged
      blocks compare how far each diary saw relief, and a positive second beats a prolonged first only when
      its pain came back later than the first's diary ended. The rule never guesses at relief nobody
      reported; the clinician sees both blocks' verdicts and diaries beside it.

    None when the first block was neither positive nor prolonged (no pair), or while the second is not yet
    evaluated. A measure missing from a block with relief (no diary to judge) counts as no time.
    """
    if first.result is None or not goes_on_to_second_block(first.result) or second.result is None:
        return None
    if second.result not in _WITH_RELIEF:
        return "second_block_not_positive"
    if first.result == ReliefResult.POSITIVE and second.result == ReliefResult.PROLONGED:
        return "concordant"
    first_lasted = relief_lasted(first, policy) or timedelta(0)
    second_lasted = relief_lasted(second, policy) or timedelta(0)
    return "concordant" if second_lasted > first_lasted else "discordant"
