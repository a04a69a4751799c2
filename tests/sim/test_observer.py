"""The simulation's deadline watcher: a pathway past its due time, unflagged and unmoved, is stuck; a flagged
or moving one is not; a flag raised after its deadline and the grace period is late."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sim.observer import Observer

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
GRACE = timedelta(seconds=10)


def view(due: datetime, *, flagged: bool = False, timeline: int = 1, **fields: Any) -> dict[str, Any]:
    events = [{"event": "stage_entered", "at": T0.isoformat(), "detail": "exam"}] * timeline
    if flagged:
        events.append(
            {
                "event": "needs_attention",
                "at": (due + timedelta(seconds=1)).isoformat(),
                "detail": "exam overdue",
            }
        )
    return {
        "pathway_id": "pathway-1",
        "stage": "exam",
        "status": "active",
        "next_action": {"actor": "clinician", "action": "exam", "due_at": due.isoformat()},
        "needs_attention": flagged,
        "attention_reasons": ["exam_overdue"] if flagged else [],
        "timeline": events,
        **fields,
    }


def test_a_pathway_past_its_due_time_unflagged_and_unmoved_is_stuck() -> None:
    observer = Observer(GRACE)
    due = T0 + timedelta(seconds=5)
    observer.observe(view(due), T0)
    observer.observe(view(due), due + GRACE + timedelta(seconds=1))
    assert [s.action for s in observer.stuck] == ["exam"]
    assert not observer.waiting_correctly("pathway-1")


def test_a_flagged_or_moving_pathway_is_not_stuck() -> None:
    flagged, moving = Observer(GRACE), Observer(GRACE)
    due = T0 + timedelta(seconds=5)
    late = due + GRACE + timedelta(seconds=1)
    flagged.observe(view(due), T0)
    flagged.observe(view(due, flagged=True), late)
    moving.observe(view(due), T0)
    moving.observe(view(due, timeline=2), due + timedelta(seconds=1))  # something happened after the due time
    moving.observe(view(due, timeline=2), late)
    assert flagged.stuck == [] and moving.stuck == []
    assert flagged.waiting_correctly("pathway-1")
    track = flagged.tracks["pathway-1"]
    assert (track.flags, track.flags_in_time) == (1, 1)


def test_a_wait_for_a_person_lasts_until_the_next_action_changes() -> None:
    observer = Observer(GRACE)
    due = T0 + timedelta(seconds=5)
    observer.observe(view(due), T0)
    ended = view(due, status="closed", next_action=None)
    observer.observe(ended, T0 + timedelta(seconds=7))
    assert observer.tracks["pathway-1"].human_waits == [7.0]
