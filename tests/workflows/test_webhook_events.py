"""Each change a pathway shows is written once to the webhook outbox, in the order it happened, in the
workflow task that made it; a worker that dies and comes back writes nothing again."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from domain.appointments import AppointmentKind, AppointmentStatus
from domain.config import CLINICAL
from domain.results import StaffRequest
from tests.workflows.clinic_worker import ClinicWorker
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver
from workflows.pathway import PatientPathwayWorkflow

Start = Callable[..., Awaitable[PathwayDriver]]
POSITIVE_DIARY = [(timedelta(minutes=15), 1), (timedelta(hours=1), 1), (timedelta(hours=2), 7)]


def _events(clinic: FakeClinic, pathway: PathwayDriver) -> list[tuple[str, dict[str, Any]]]:
    return [(e.type.value, e.data) for e in clinic.events.values() if e.pathway_id == pathway.handle.id]


def _stages(events: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    return [
        (d["stage"]["from"], d["stage"]["to"]) for t, d in events if "stage" in d and t != "pathway.started"
    ]


async def test_a_declined_pathway_tells_every_change_once_in_order(
    start: Start, clinic: FakeClinic, worker: ClinicWorker
) -> None:
    # No workflow is cached: each workflow task replays the history from the start, and writes nothing twice.
    await worker.stop()
    await worker.start(max_cached_workflows=0)
    pathway = await start()
    await pathway.to_relief_check()
    await pathway.diary(POSITIVE_DIARY)
    await pathway.wait_for("candidacy", lambda v: v.stage == "candidacy")
    await pathway.decide(approved=False, reason="prefers to wait")
    final = await pathway.result()

    events = _events(clinic, pathway)
    assert events[0] == ("pathway.started", {"stage": "mri"})
    assert _stages(events) == [
        ("mri", "exam"),
        ("exam", "block"),
        ("block", "relief_check"),
        ("relief_check", "candidacy"),
        ("candidacy", "closed"),
    ]
    types = [t for t, _ in events]
    closed = types.index("pathway.closed")
    assert events[closed][1] == {"stage": {"from": "candidacy", "to": "closed"}, "outcome": "declined"}
    # Then the booked slots it no longer needs are freed.
    assert {(t, str(d.get("changes"))) for t, d in events[closed + 1 :]} <= {
        ("appointment.changed", str({"status": {"from": "booked", "to": "cancelled"}}))
    }
    evaluated = types.index("relief_check.evaluated")
    assert events[evaluated][1] == {"block_number": 1, "result": "positive"}
    assert types[evaluated + 1] == "pathway.stage_changed"  # the verdict, then the stage it leads to
    booked = [d for t, d in events if t == "appointment.booked"]
    assert [d["appointment_id"] for d in booked] == [a.appointment_id for a in final.appointments]
    exam = final.appointments[0]
    assert booked[0] == {
        "appointment_id": exam.appointment_id,
        "kind": "exam",
        "starts_at": exam.starts_at.isoformat().replace("+00:00", "Z"),
        "ends_at": exam.ends_at.isoformat().replace("+00:00", "Z"),
        "status": "booked",
    }
    # Every event is its own: one id each, numbered 1, 2, 3..., this pathway's, its patient's reference only.
    written = [e for e in clinic.events.values() if e.pathway_id == pathway.handle.id]
    assert len({e.id for e in written}) == len(written) == len(events)
    assert [e.sequence for e in written] == list(range(1, len(written) + 1))
    assert {e.patient_ref for e in written} == {final.patient_ref}
    assert "prefers to wait" not in str(events)


async def test_attention_raised_and_cleared_and_an_appointment_changed(
    start: Start, clinic: FakeClinic
) -> None:
    clinic.no_slots.add("exam")
    pathway = await start()
    await pathway.mri_review()
    retries = CLINICAL.booking_retry_after * (CLINICAL.booking_tries - 1)
    await pathway.skip_to(await pathway.workflow_now() + retries + timedelta(minutes=1))
    await pathway.wait_for("staff asked", lambda v: v.needs_attention)
    clinic.no_slots.discard("exam")
    await pathway.step(PatientPathwayWorkflow.retry_booking, StaffRequest(requested_by="Front desk"))
    exam = await pathway.booked(AppointmentKind.EXAM)
    await pathway.appointment_status(exam, AppointmentStatus.NOSHOW)
    await pathway.wait_for("rebooked", lambda v: len(v.appointments) == 2)

    events = _events(clinic, pathway)
    attention = [(t, d) for t, d in events if t.startswith("pathway.attention")]
    assert attention == [
        (
            "pathway.attention_raised",
            {"reasons": ["no_slot_available"], "attention_reasons": ["no_slot_available"]},
        ),
        ("pathway.attention_cleared", {"reasons": ["no_slot_available"], "attention_reasons": []}),
    ]
    changed = [d for t, d in events if t == "appointment.changed"]
    assert changed == [
        {
            "appointment_id": exam.appointment_id,
            "kind": "exam",
            "changes": {"status": {"from": "booked", "to": "noshow"}},
        }
    ]
    assert [t for t, _ in events].count("appointment.booked") == 2


async def test_while_the_outbox_is_away_the_pathway_goes_on_and_loses_no_change(
    start: Start, clinic: FakeClinic
) -> None:
    """Each change is kept as it happened, with its own time, and written in order once the database is
    back: a booking and its no-show stay two events, and nothing waits on the outbox meanwhile."""
    clinic.outbox_down = True
    pathway = await start()
    await pathway.mri_review()
    exam = await pathway.booked(AppointmentKind.EXAM)
    await pathway.skip_to(await pathway.workflow_now() + timedelta(minutes=5))
    await pathway.appointment_status(exam, AppointmentStatus.NOSHOW)
    rebooked = await pathway.wait_for("rebooked", lambda v: len(v.appointments) == 2)
    assert clinic.events == {}

    clinic.outbox_down = False
    await pathway.skip_to(await pathway.workflow_now() + timedelta(hours=2))
    await pathway.wait_for("written", lambda v: len(_events(clinic, pathway)) >= 5)
    written = [e for e in clinic.events.values() if e.pathway_id == pathway.handle.id]
    assert [(e.type.value, e.data.get("appointment_id")) for e in written] == [
        ("pathway.started", None),
        ("pathway.stage_changed", None),
        ("appointment.booked", exam.appointment_id),
        ("appointment.changed", exam.appointment_id),
        ("appointment.booked", rebooked.appointments[1].appointment_id),
    ]
    assert [e.sequence for e in written] == list(range(1, len(written) + 1))
    times = [e.time for e in written]
    assert times == sorted(times) and times[2] < times[3]  # each at its own moment, not the write's
    assert written[3].data["changes"] == {"status": {"from": "booked", "to": "noshow"}}
