"""The simulation's deadline watcher: a pathway past its due time, unflagged and not moved on, is stuck; a
flagged one, or one whose step was taken, is not, but a timeline entry or a check-in's change alone does not
excuse it; a flag raised after its deadline and the grace period is late; a pathway the API would not show
for longer than the grace period is unreadable."""

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
    taken = {"actor": "clinician", "action": "block", "due_at": (late + GRACE).isoformat()}
    moving.observe(view(due, next_action=taken), due + timedelta(seconds=1))  # its step was taken
    moving.observe(view(due, next_action=taken), late)
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


def test_a_change_that_is_not_its_step_does_not_excuse_a_pathway_past_its_due_time() -> None:
    observer = Observer(GRACE)
    due = T0 + timedelta(seconds=5)
    observer.observe(view(due), T0)
    after = due + timedelta(seconds=1)
    # A timeline entry and an outcome check-in that changed after the due time: not the step it waits for.
    observer.observe(view(due, timeline=2, outcomes=[{"status": "open"}]), after)
    observer.observe(view(due, timeline=3, outcomes=[{"status": "answered"}]), due + GRACE + GRACE)
    assert [s.action for s in observer.stuck] == ["exam"]


def test_a_pathway_the_api_would_not_show_past_the_grace_is_unreadable() -> None:
    observer = Observer(GRACE)
    due = T0 + timedelta(hours=1)
    observer.observe(view(due), T0)
    observer.unseen("pathway-1", T0 + timedelta(seconds=1))
    observer.unseen("pathway-1", T0 + GRACE)  # not yet past the grace
    assert observer.unreadable == []
    observer.unseen("pathway-1", T0 + GRACE + timedelta(seconds=2))
    assert [u.pathway_id for u in observer.unreadable] == ["pathway-1"]
    assert not observer.waiting_correctly("pathway-1")
    observer.observe(view(due), T0 + GRACE + timedelta(seconds=3))  # shown again: waiting correctly
    assert observer.waiting_correctly("pathway-1")


def test_a_read_that_fails_once_is_not_unreadable() -> None:
    observer = Observer(GRACE)
    observer.observe(view(T0 + timedelta(hours=1)), T0)
    observer.unseen("pathway-1", T0 + timedelta(seconds=1))
    observer.observe(view(T0 + timedelta(hours=1)), T0 + timedelta(seconds=2))
    observer.unseen("pathway-1", T0 + GRACE + timedelta(seconds=3))  # a new failure: its own clock
    assert observer.unreadable == []
    assert observer.waiting_correctly("pathway-1")


def test_a_pathway_once_unreadable_is_judged_at_the_end_on_its_last_failures_alone() -> None:
    observer = Observer(GRACE)
    due = T0 + timedelta(hours=1)
    observer.observe(view(due), T0)
    observer.unseen("pathway-1", T0 + timedelta(seconds=1))
    observer.unseen("pathway-1", T0 + GRACE + timedelta(seconds=2))  # unreadable for a while: counted
    observer.observe(view(due), T0 + GRACE + timedelta(seconds=3))
    observer.unseen("pathway-1", T0 + GRACE + timedelta(seconds=4))  # one failed read at the end
    assert [u.pathway_id for u in observer.unreadable] == ["pathway-1"]
    assert observer.waiting_correctly("pathway-1")


def test_a_system_step_unchanged_and_unflagged_past_its_bound_is_stuck() -> None:
    bound = timedelta(seconds=100)
    observer, flagged = Observer(GRACE, bound), Observer(GRACE, bound)
    booking = {"actor": "system", "action": "book_exam", "due_at": None}
    for watcher, raised in ((observer, False), (flagged, True)):
        watcher.observe(view(T0, next_action=booking, needs_attention=raised), T0)
        watcher.observe(view(T0, next_action=booking, needs_attention=raised), T0 + bound)
        assert watcher.stuck == [] and watcher.waiting_correctly("pathway-1")  # within the bound
    later = T0 + bound + timedelta(seconds=1)
    observer.observe(view(T0, next_action=booking), later)
    flagged.observe(view(T0, next_action=booking, needs_attention=True), later)
    assert [(s.action, s.due_at) for s in observer.stuck] == [("book_exam", "none: a system step")]
    assert not observer.waiting_correctly("pathway-1")
    assert flagged.stuck == [] and flagged.waiting_correctly("pathway-1")  # staff were asked
