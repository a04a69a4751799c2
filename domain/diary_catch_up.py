"""Which diary steps a relief check takes when it wakes late (the worker was down, or the block was
recorded after the fact), and what it tells the timeline about the ones it drops."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from domain.config import ReliefPolicy
from domain.relief import diary_schedule, diary_window_end


class DiaryStep(Enum):
    PROMPT = "prompt"
    NUDGE = "nudge"
    SILENCE_CHECK = "silence_check"
    END = "end"


@dataclass(frozen=True)
class DiaryEvent:
    at: datetime
    step: DiaryStep
    number: int = 0  # the prompt a PROMPT or NUDGE belongs to, from 1


def diary_events(performed_at: datetime, policy: ReliefPolicy) -> list[DiaryEvent]:
    """Every step of the diary in time order: prompts, their nudges, the silence check, then the end."""
    schedule = diary_schedule(performed_at, policy)
    return sorted(
        [DiaryEvent(at, DiaryStep.PROMPT, n) for n, at in enumerate(schedule, start=1)]
        + [
            DiaryEvent(at + policy.nudge_after, DiaryStep.NUDGE, n)
            for n, at in enumerate(schedule[:-1], start=1)
        ]
        + [DiaryEvent(performed_at + policy.silence_alert_after, DiaryStep.SILENCE_CHECK)]
        + [DiaryEvent(diary_window_end(performed_at, policy), DiaryStep.END)],
        key=lambda e: e.at,
    )


@dataclass(frozen=True)
class CatchUp:
    """The due steps to take now, in order, and those dropped as missed."""

    take: tuple[DiaryEvent, ...]
    missed: tuple[DiaryEvent, ...]
    diary_closed: bool = False

    @property
    def prompt_sent(self) -> int | None:
        return next((e.number for e in self.take if e.step == DiaryStep.PROMPT), None)

    def detail(self, started: datetime) -> str | None:
        """The timeline's words for what was dropped, or None when nothing was."""
        if not self.missed:
            return None
        missed = self.missed
        why = "before the block was recorded" if all(e.at < started for e in missed) else "during an outage"
        sent = self.prompt_sent
        if sent is not None:
            after = f"; sent prompt {sent}"
        elif self.diary_closed and any(e.step == DiaryStep.PROMPT for e in missed):
            after = "; the diary had closed"
        else:
            after = ""
        return f"{_missed_words(missed)} missed {why}{after}"


def catch_up_by_time(
    due: Sequence[DiaryEvent],
    *,
    now: datetime,
    started: datetime,
    missed_after: timedelta,
    diary_closed: bool,
) -> CatchUp:
    """The due steps (in time order, without the END) by their lateness alone. A step later than
    `missed_after` has missed its moment and is dropped, except the latest missed prompt when no prompt is
    on time: the patient gets the current prompt, not one for each missed moment. The silence check is
    kept after an outage (staff still hear of a silence that ran on while the worker was down), dropped
    when it was due before the check started."""
    limit = now - missed_after

    def on_time(event: DiaryEvent) -> bool:
        return event.at >= limit or (event.step == DiaryStep.SILENCE_CHECK and event.at >= started)

    take = [e for e in due if on_time(e)]
    missed = [e for e in due if not on_time(e)]
    missed_prompts = [e for e in missed if e.step == DiaryStep.PROMPT]
    if missed_prompts and not any(e.step == DiaryStep.PROMPT for e in take):
        take.insert(0, missed_prompts[-1])
        missed.remove(missed_prompts[-1])
    return CatchUp(take=tuple(take), missed=tuple(missed), diary_closed=diary_closed)


def hold_back(by_time: CatchUp) -> CatchUp:
    """Drops, of the steps taken by time, those that would only bother the patient:
    - every prompt once the diary has closed (its END is due): no answer would be accepted;
    - a nudge going out with its own prompt (the prompt was sent late): it would only repeat it.
    What is dropped joins the missed steps, so the timeline says so."""
    take = list(by_time.take)
    if by_time.diary_closed:
        take = [e for e in take if e.step != DiaryStep.PROMPT]
    prompts = {e.number for e in take if e.step == DiaryStep.PROMPT}
    take = [e for e in take if not (e.step == DiaryStep.NUDGE and e.number in prompts)]
    held = [e for e in by_time.take if e not in take]
    missed = sorted([*by_time.missed, *held], key=lambda e: e.at)
    return replace(by_time, take=tuple(take), missed=tuple(missed))


def catch_up(
    due: Sequence[DiaryEvent],
    *,
    now: datetime,
    started: datetime,
    missed_after: timedelta,
    diary_closed: bool,
) -> CatchUp:
    """The due steps to take now and those dropped: by lateness (`catch_up_by_time`), then held back."""
    return hold_back(
        catch_up_by_time(due, now=now, started=started, missed_after=missed_after, diary_closed=diary_closed)
    )


def _missed_words(missed: Sequence[DiaryEvent]) -> str:
    """E.g. '3 diary prompts, 2 nudges and the no-answer check'."""
    prompts = sum(e.step == DiaryStep.PROMPT for e in missed)
    nudges = sum(e.step == DiaryStep.NUDGE for e in missed)
    parts = [
        *([f"{prompts} diary prompt{'s' if prompts > 1 else ''}"] if prompts else []),
        *([f"{nudges} nudge{'s' if nudges > 1 else ''}"] if nudges else []),
        *(["the no-answer check"] if any(e.step == DiaryStep.SILENCE_CHECK for e in missed) else []),
    ]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
