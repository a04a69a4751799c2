"""The events between two shapes of a pathway: one per change, in the order a reader would tell them, and
whatever the steps between, the stage events chain from the first stage to the last."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from domain.appointments import Appointment, AppointmentKind, AppointmentStatus
from domain.stages import AttentionReason, Outcome, PathwayStatus, ReliefResult, Stage
from domain.webhook_events import EventType, PathwayShape, changes

AT = datetime(2026, 12, 8, 16, 30, tzinfo=UTC)
EXAM = Appointment(
    appointment_id="a-1", kind=AppointmentKind.EXAM, starts_at=AT, ends_at=AT + timedelta(minutes=30)
)


def _shape(stage: Stage = Stage.MRI, **fields: object) -> PathwayShape:
    values: dict[str, object] = {
        "stage": stage,
        "status": PathwayStatus.ACTIVE,
        "outcome": None,
        "attention": (),
        "appointments": (),
        "block_results": (),
    }
    return PathwayShape(**(values | fields))  # type: ignore[arg-type]


def _types(before: PathwayShape | None, after: PathwayShape) -> list[EventType]:
    return [draft.type for draft in changes(before, after)]


def test_a_new_pathway_is_started_with_its_stage() -> None:
    [started] = changes(None, _shape(Stage.MRI))
    assert (started.type, started.data) == (EventType.PATHWAY_STARTED, {"stage": "mri"})


def test_nothing_changed_is_no_event() -> None:
    shape = _shape(Stage.EXAM, appointments=(EXAM,), attention=(AttentionReason.EXAM_OVERDUE,))
    assert changes(shape, shape) == []


def test_a_verdict_comes_before_the_stage_it_leads_to() -> None:
    before = _shape(Stage.RELIEF_CHECK)
    after = _shape(Stage.CANDIDACY, block_results=((1, ReliefResult.POSITIVE),))
    drafts = changes(before, after)
    assert [(d.type, d.data) for d in drafts] == [
        (EventType.RELIEF_CHECK_EVALUATED, {"block_number": 1, "result": "positive"}),
        (EventType.STAGE_CHANGED, {"stage": {"from": "relief_check", "to": "candidacy"}}),
    ]


def test_an_appointment_booked_then_changed_says_only_what_changed() -> None:
    [booked] = changes(_shape(Stage.EXAM), _shape(Stage.EXAM, appointments=(EXAM,)))
    assert booked.type == EventType.APPOINTMENT_BOOKED
    assert booked.data == {
        "appointment_id": "a-1",
        "kind": "exam",
        "starts_at": "2026-12-08T16:30:00Z",
        "ends_at": "2026-12-08T17:00:00Z",
        "status": "booked",
    }
    moved = EXAM.model_copy(update={"status": AppointmentStatus.NOSHOW})
    [changed] = changes(_shape(Stage.EXAM, appointments=(EXAM,)), _shape(Stage.EXAM, appointments=(moved,)))
    assert (changed.type, changed.data) == (
        EventType.APPOINTMENT_CHANGED,
        {"appointment_id": "a-1", "kind": "exam", "changes": {"status": {"from": "booked", "to": "noshow"}}},
    )


def test_instants_are_given_in_utc() -> None:
    local = EXAM.model_copy(update={"starts_at": AT.astimezone(datetime.now().astimezone().tzinfo)})
    [booked] = changes(_shape(), _shape(appointments=(local,)))
    assert booked.data["starts_at"] == "2026-12-08T16:30:00Z"


def test_attention_raised_and_cleared_name_the_reasons() -> None:
    overdue, unreachable = AttentionReason.EXAM_OVERDUE, AttentionReason.PATIENT_UNREACHABLE
    drafts = changes(_shape(attention=(overdue,)), _shape(attention=(unreachable,)))
    assert [(d.type, d.data) for d in drafts] == [
        (
            EventType.ATTENTION_RAISED,
            {"reasons": ["patient_unreachable"], "attention_reasons": ["patient_unreachable"]},
        ),
        (
            EventType.ATTENTION_CLEARED,
            {"reasons": ["exam_overdue"], "attention_reasons": ["patient_unreachable"]},
        ),
    ]


def test_the_end_is_completed_or_closed_with_its_outcome_and_last() -> None:
    open_ = _shape(Stage.OUTCOMES, attention=(AttentionReason.CHECK_IN_UNANSWERED,))
    done = _shape(Stage.COMPLETED, status=PathwayStatus.COMPLETED, outcome=Outcome.DVR_COMPLETED)
    assert _types(open_, done) == [EventType.ATTENTION_CLEARED, EventType.PATHWAY_COMPLETED]
    assert changes(open_, done)[-1].data == {
        "stage": {"from": "outcomes", "to": "completed"},
        "outcome": "dvr_completed",
    }
    closed = _shape(Stage.CLOSED, status=PathwayStatus.CLOSED, outcome=Outcome.WITHDRAWN)
    assert _types(_shape(Stage.EXAM), closed) == [EventType.PATHWAY_CLOSED]


STAGES = [Stage.MRI, Stage.EXAM, Stage.BLOCK, Stage.RELIEF_CHECK, Stage.CANDIDACY, Stage.DVR_SCHEDULED]


@given(st.lists(st.sampled_from(STAGES), min_size=1, max_size=12))
def test_the_stage_events_chain_from_the_first_stage_to_the_last(stages: list[Stage]) -> None:
    shapes = [_shape(stage) for stage in stages]
    drafts = changes(None, shapes[0])
    for before, after in pairwise(shapes):
        drafts += changes(before, after)
    moves = [
        (d.data["stage"]["from"], d.data["stage"]["to"]) for d in drafts if d.type == EventType.STAGE_CHANGED
    ]
    assert all(a != b for a, b in moves)
    assert all(moves[i][1] == moves[i + 1][0] for i in range(len(moves) - 1))
    start = drafts[0].data["stage"]
    assert (moves[-1][1] if moves else start) == stages[-1].value
    assert (moves[0][0] if moves else start) == start == stages[0].value
