"""A small simulated clinic month (`python -m sim`, bounded): eight synthetic patients with a fixed seed
(late clinicians, no-shows, a change request, answers by text and by link, a silent patient, withdrawals)
on one demo-profile stack, followed for 30 s. Patients answer by text (the gateway's signed webhook) and by
their link; every pathway ends or is still waiting correctly; none is past a deadline unmoved and unflagged,
or hidden behind answers other than its view; every step the simulated people sent was taken (or met another
step); no message goes twice; and the table has its rows."""

from bench.stack import local_stack
from sim.__main__ import Options, simulate, stack_settings
from sim.report import table

ROWS = (
    "pathways flagged for attention",
    "flags raised within their deadline + grace",
    "pathways past a deadline, neither moving nor flagged",
    "pathways the API would not show for longer than the grace",
    "messages per patient (mean, max)",
    "messages sent twice for one step",
    "worst wait for a person (staff, clinician)",
    "API answers 5xx other than 503",
    "steps neither taken nor refused 409 (4xx, or unanswered)",
)


async def test_a_small_month_loses_no_patient_and_sends_nothing_twice() -> None:
    options = Options(patients=8, seed=16, concurrency=8, deadline="PT2H", give_up_after_seconds=30)
    async with local_stack(in_memory=True, **stack_settings()) as stack:
        month, observer = await simulate(stack, options)
    assert len(month.finals) == 8 and all(view is not None for view in month.finals.values())
    assert all(observer.waiting_correctly(pathway_id) for pathway_id in month.finals), month.evidence
    shown = {line.figure: line for line in month.lines}
    assert shown["pathways past a deadline, neither moving nor flagged"].value == "0", month.evidence
    assert shown["messages sent twice for one step"].value == "0", month.evidence
    assert shown["API answers 5xx other than 503"].value == "0", month.evidence
    assert shown["pathways the API would not show for longer than the grace"].value == "0", month.evidence
    assert shown["steps neither taken nor refused 409 (4xx, or unanswered)"].value == "0", month.evidence
    # The copies were counted: the provider's log was read (a message sent as the month ended may be in the
    # outbox and not yet in the log, so not equal).
    took, sent = shown["patients' messages the provider took (outbox: sent)"].value.rstrip(")").split(" (")
    assert 0 < int(took) <= int(sent), month.evidence
    # The behaviours happened: answers by text and by link were taken (seed 16 draws both).
    answers = shown["patients' answers (how: taken or not)"].value
    assert "sms taken" in answers and "link taken" in answers, answers
    # Staff recorded a no-show (seed 16 draws one), and the pathway rebooked it.
    appointments = [a for view in month.finals.values() if view for a in view["appointments"]]
    assert any(a["status"] == "noshow" for a in appointments), month.evidence
    printed = table(month)
    assert all(f"| {row}" in printed for row in ROWS)
    assert "| pathways " in printed and "patients' answers" in printed
