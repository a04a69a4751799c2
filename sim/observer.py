"""The deadline watcher: every view the simulation reads passes through here, and each pathway's record
says whether it was ever past its deadline neither moving nor flagged, when it was flagged, and how long it
waited for a person.

A pathway's deadline is its view's `next_action.due_at`. It is *stuck* when an observation finds it active,
that due time passed by more than the grace period, `needs_attention` false, and what it waits for unchanged
since the due time (its stage, status, next action and attention): nobody moved it on and nobody was told.
Other changes (a timeline entry, a check-in of the outcomes child, a diary prompt) do not excuse it: the step
it waits for is still past due. A system step has no due time (a booking, the pathway's completion): it is
stuck when unchanged and unflagged for longer than `system_bound`, past every booking retry the policy
allows before staff are asked. A flag is *in time* when the timeline's `needs_attention` entry is no later
than the due time the pathway was waiting on, plus the grace period. A pathway the API would not show (a 503,
or no answer) for longer than the grace period is *unreadable*: a stall could hide behind it.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.config import DEMO

HUMANS = ("staff", "clinician")
SYSTEM_BOUND = DEMO.booking_retry_after * DEMO.booking_tries + timedelta(seconds=60)
"""How long a system step (no due time) may stand unchanged and unflagged: a booking that finds no slot is
tried again after `booking_retry_after`, `booking_tries` times, before staff are asked; then a minute."""


@dataclass
class Stuck:
    pathway_id: str
    stage: str
    action: str
    due_at: str
    seen_at: str


@dataclass
class Unreadable:
    pathway_id: str
    since: str
    seen_at: str


@dataclass
class Track:
    """What the watcher knows of one pathway."""

    pathway_id: str
    signature: str = ""
    changed_at: datetime | None = None
    seen_at: datetime | None = None
    last: dict[str, Any] | None = None
    due_at: datetime | None = None
    stuck: Stuck | None = None
    flags: int = 0
    flags_in_time: int = 0
    flagged_reasons: set[str] = field(default_factory=set)
    waiting_for: tuple[str, str] | None = None
    waiting_since: datetime | None = None
    human_waits: list[float] = field(default_factory=list)
    seen_attention_events: int = 0
    late_flags: list[str] = field(default_factory=list)
    final: dict[str, Any] | None = None
    unread_since: datetime | None = None
    """When the reads of it began failing (None: the last read answered)."""
    unread_last: datetime | None = None
    """The last read of it that failed."""
    unreadable: Unreadable | None = None


def _signature(view: dict[str, Any]) -> str:
    """What moving on means: any of these changes."""
    return json.dumps(
        [
            view.get("stage"),
            view.get("status"),
            view.get("next_action"),
            view.get("needs_attention"),
            view.get("attention_reasons"),
        ],
        sort_keys=True,
    )


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class Observer:
    def __init__(self, grace: timedelta, system_bound: timedelta = SYSTEM_BOUND) -> None:
        self.grace = grace
        self.system_bound = system_bound
        self.tracks: dict[str, Track] = {}

    def observe(self, view: dict[str, Any], now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        pathway_id: str = view["pathway_id"]
        track = self.tracks.setdefault(pathway_id, Track(pathway_id))
        track.seen_at, track.last, track.unread_since = now, view, None
        signature = _signature(view)
        if signature != track.signature:
            track.signature, track.changed_at = signature, now
        self._count_flags(track, view)
        self._time_human_wait(track, view, now)
        action = view.get("next_action")
        if view["status"] != "active":
            track.final = view
            return
        track.due_at = _instant(action.get("due_at")) if action else None
        if track.stuck is None and action and not view.get("needs_attention") and track.changed_at:
            due = track.due_at
            past_due = due is not None and now > due + self.grace and track.changed_at <= due
            system_stalled = (
                action["actor"] == "system" and due is None and now - track.changed_at > self.system_bound
            )
            if past_due or system_stalled:
                shown = due.isoformat() if due else "none: a system step"
                track.stuck = Stuck(pathway_id, view["stage"], action["action"], shown, now.isoformat())

    def unseen(self, pathway_id: str, now: datetime | None = None) -> None:
        """A read of the pathway that the API did not answer with its view (a 503, or no answer)."""
        now = now or datetime.now(UTC)
        track = self.tracks.setdefault(pathway_id, Track(pathway_id))
        if track.unread_since is None:
            track.unread_since = now
        track.unread_last = now
        if track.unreadable is None and now - track.unread_since > self.grace:
            track.unreadable = Unreadable(pathway_id, track.unread_since.isoformat(), now.isoformat())

    def _count_flags(self, track: Track, view: dict[str, Any]) -> None:
        events = [e for e in view.get("timeline") or [] if e["event"] == "needs_attention"]
        for event in events[track.seen_attention_events :]:
            track.flags += 1
            track.flagged_reasons.add(event["detail"])
            at = datetime.fromisoformat(event["at"])
            # Only a flag for a late step has a deadline to meet (red flags, requests: raised as they come).
            late_step = "overdue" in event["detail"] or "unanswered" in event["detail"]
            due = track.due_at
            if not late_step or due is None or at <= due + self.grace:
                track.flags_in_time += 1
            else:
                track.late_flags.append(f"{event['detail']} at {at.isoformat()}, due {due.isoformat()}")
        track.seen_attention_events = len(events)

    def _time_human_wait(self, track: Track, view: dict[str, Any], now: datetime) -> None:
        action = view.get("next_action")
        waiting = (
            (action["actor"], action["action"])
            if action and action["actor"] in HUMANS and view["status"] == "active"
            else None
        )
        if waiting == track.waiting_for:
            return
        if track.waiting_for is not None and track.waiting_since is not None:
            track.human_waits.append((now - track.waiting_since).total_seconds())
        track.waiting_for, track.waiting_since = waiting, (now if waiting else None)

    def close_open_waits(self, now: datetime | None = None) -> None:
        """The waits still open at the end count to the end (a patient still waiting for a person)."""
        now = now or datetime.now(UTC)
        for track in self.tracks.values():
            if track.waiting_for is not None and track.waiting_since is not None:
                track.human_waits.append((now - track.waiting_since).total_seconds())
                track.waiting_for = track.waiting_since = None

    def waiting_correctly(self, pathway_id: str) -> bool:
        """An open pathway's last view: flagged, or not yet past its due time and the grace period, or a
        system step not yet past `system_bound` (an ended pathway: True). One the API would not show at the
        end, for longer than the grace period, is not."""
        track = self.tracks[pathway_id]
        view, seen = track.last, track.seen_at
        since, last = track.unread_since, track.unread_last
        if since is not None and last is not None and last - since > self.grace:
            return False  # unreadable at the end
        if view is None or seen is None or view["status"] != "active":
            return view is not None
        action = view.get("next_action") or {}
        due = _instant(action.get("due_at"))
        if view.get("needs_attention"):
            return True
        if due is None:  # a system step within its bound; a person's step with no due time
            stalled_since = track.changed_at or seen
            return action.get("actor") != "system" or seen - stalled_since <= self.system_bound
        return seen <= due + self.grace

    @property
    def stuck(self) -> list[Stuck]:
        return [t.stuck for t in self.tracks.values() if t.stuck is not None]

    @property
    def unreadable(self) -> list[Unreadable]:
        return [t.unreadable for t in self.tracks.values() if t.unreadable is not None]
