"""The month's table: pathways by outcome, flags and their timing, pathways stuck past a deadline, messages
per patient and duplicates (from the demo outbox, and the demo provider's lines in the stack's log), the worst
wait for a person; printed and written as JSON (bench/results/sim.json, beside the benchmarks' figures)."""

import json
import re
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.figures import RESULTS, machine
from domain.config import DEMO_FACTOR
from sim.clinic import Clinic
from sim.observer import Observer


@dataclass(frozen=True)
class Line:
    figure: str
    value: str
    goal: str = ""
    met: bool | None = None


@dataclass
class Messages:
    per_pathway: dict[str, int]
    duplicates: list[str]
    """`pathway-id: step` of each message sent more than once for one step: two outbox messages sent for it,
    or one message handed to the provider more than once."""
    provider_took: int = 0
    """The patients' sent messages the provider took, by the stack's log: the count of copies is read."""


_DELIVERED = re.compile(r"notification\.delivered\b.*?\bkey=(\S+)")


def provider_sends(stack_log: str, pathway_ids: list[str]) -> Counter[str]:
    """How often the demo's provider (activities/providers/log.py) took each of these pathways' messages, by
    outbox key, from the stack's log: a message taken twice went to the patient twice, whatever the outbox
    says."""
    wanted = set(pathway_ids)
    sends: Counter[str] = Counter()
    for line in stack_log.splitlines():
        if (found := _DELIVERED.search(line)) and found.group(1).split(":", 1)[0] in wanted:
            sends[found.group(1)] += 1
    return sends


async def messages_of(db: asyncpg.Pool, pathway_ids: list[str], stack_log: str = "") -> Messages:
    """The patients' sent messages (the demo outbox). A message's step is its outbox key less the pathway
    (`booked:<appointment>`, `reminder:<appointment>:<when>`, `diary:<block>:<prompt>`, `outcome:<name>`,
    ...), a resend of a bounced message counting as the same step: two sent for one step are a duplicate, as
    is one message the provider took twice (`provider_sends`)."""
    rows = await db.fetch(
        "select pathway_id, message_key, template from outbox"
        " where recipient = 'patient' and status = 'sent' and pathway_id = any($1::text[])",
        pathway_ids,
    )
    per_pathway = {pathway_id: 0 for pathway_id in pathway_ids}
    steps: Counter[str] = Counter()
    for row in rows:
        per_pathway[row["pathway_id"]] += 1
        step = row["message_key"].removeprefix(f"{row['pathway_id']}:").removesuffix(":resent")
        steps[f"{row['pathway_id']}: {row['template']} {step}"] += 1
    twice = [step for step, count in steps.items() if count > 1]
    sends = provider_sends(stack_log, pathway_ids)
    twice += [f"{key}: taken by the provider {n} times" for key, n in sends.items() if n > 1]
    took = sum(sends[row["message_key"]] for row in rows)
    return Messages(per_pathway, sorted(twice), took)


@dataclass
class Month:
    patients: int
    seed: int
    seconds: float
    finals: dict[str, dict[str, Any] | None]
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)


def outcome_of(view: dict[str, Any] | None) -> str:
    if view is None:
        return "never referred (API refused)"
    if view["status"] != "active":
        return f"{view['status']}: {view['outcome']}"
    action = view.get("next_action") or {}
    who = f"{action.get('actor')} {action.get('action')}" if action else "nothing"
    flagged = ", flagged" if view.get("needs_attention") else ""
    return f"still waiting: {view['stage']} for {who}{flagged}"


def tabulate(month: Month, observer: Observer, clinic: Clinic, messages: Messages) -> None:
    lines = month.lines
    by_outcome = Counter(outcome_of(view) for view in month.finals.values())
    for outcome, count in sorted(by_outcome.items()):
        lines.append(Line(f"pathways {outcome}", str(count)))
    results = Counter(
        str(block.get("result")) for view in month.finals.values() if view for block in view.get("blocks", [])
    )
    lines.append(Line("blocks by relief result", ", ".join(f"{r} {n}" for r, n in sorted(results.items()))))
    prompts = [
        len(block.get("prompts_sent") or [])
        for view in month.finals.values()
        if view
        for block in view.get("blocks", [])
        if block.get("result") is not None
    ]
    if prompts:
        mean_prompts = statistics.fmean(prompts)
        lines.append(Line("diary prompts sent per block (mean, min)", f"{mean_prompts:.1f}, {min(prompts)}"))
    tracks = list(observer.tracks.values())
    flagged = [t for t in tracks if t.flags]
    flags, in_time = sum(t.flags for t in tracks), sum(t.flags_in_time for t in tracks)
    lines.append(Line("pathways flagged for attention", str(len(flagged))))
    lines.append(
        Line("flags raised within their deadline + grace", f"{in_time} of {flags}", "all", in_time == flags)
    )
    stuck = observer.stuck
    lines.append(
        Line("pathways past a deadline, neither moving nor flagged", str(len(stuck)), "0", not stuck)
    )
    unreadable = observer.unreadable
    lines.append(
        Line(
            "pathways the API would not show for longer than the grace",
            str(len(unreadable)),
            "0",
            not unreadable,
        )
    )
    counts = list(messages.per_pathway.values()) or [0]
    mean = statistics.fmean(counts)
    lines.append(Line("messages per patient (mean, max)", f"{mean:.1f}, {max(counts)}"))
    duplicates = len(messages.duplicates)
    lines.append(Line("messages sent twice for one step", str(duplicates), "0", duplicates == 0))
    sent = sum(messages.per_pathway.values())
    lines.append(
        Line("patients' messages the provider took (outbox: sent)", f"{messages.provider_took} ({sent})")
    )
    waits = [w for t in tracks for w in t.human_waits]
    worst = max(waits, default=0.0)
    clinical_hours = worst * DEMO_FACTOR / 3600
    lines.append(
        Line(
            "worst wait for a person (staff, clinician)", f"{worst:.1f} s (≈ {clinical_hours:.1f} clinical h)"
        )
    )
    if waits:
        lines.append(Line("median wait for a person", f"{statistics.median(waits):.1f} s"))
    failures = sum(1 for f in clinic.failures if f.status)
    lines.append(Line("API answers 5xx other than 503", str(failures), "0", failures == 0))
    unanswered = sum(1 for f in clinic.failures if not f.status)
    lines.append(Line("requests unanswered in 60 s (sent again)", str(unanswered)))
    lines.append(Line("steps refused 409 (met another step)", str(clinic.refused)))
    not_taken = len(clinic.steps_not_taken)
    lines.append(
        Line("steps neither taken nor refused 409 (4xx, or unanswered)", str(not_taken), "0", not not_taken)
    )
    answers = ", ".join(f"{how} {n}" for how, n in sorted(clinic.answers.items()))
    lines.append(Line("patients' answers (how: taken or not)", answers))
    lines.append(Line("requests to the API", str(clinic.requests)))
    month.evidence = {
        "stuck": [asdict(s) for s in stuck],
        "unreadable": [asdict(u) for u in unreadable],
        "steps_not_taken": clinic.steps_not_taken,
        "closing_reasons": Counter(
            str(view.get("outcome_reason")) for view in month.finals.values() if view and view["outcome"]
        ),
        "late_flags": {t.pathway_id: t.late_flags for t in tracks if t.late_flags},
        "duplicates": messages.duplicates,
        "failures": [asdict(f) for f in clinic.failures],
    }


def table(month: Month) -> str:
    header = ("figure", "value", "goal", "met")
    rows = [
        (ln.figure, ln.value, ln.goal, "" if ln.met is None else ("yes" if ln.met else "NO"))
        for ln in month.lines
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    title = (
        f"## A simulated clinic month: {month.patients} patients, seed {month.seed}, {month.seconds:.0f} s"
    )
    out = [title, "", line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(row) for row in rows]
    out += [""] + [f"- {note}" for note in month.notes]
    return "\n".join(out)


def write(month: Month, directory: Path = RESULTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "sim.json"
    document = {
        "name": "sim",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "patients": month.patients,
        "seed": month.seed,
        "seconds": round(month.seconds, 1),
        "rows": [asdict(line) for line in month.lines],
        "notes": month.notes,
        "evidence": month.evidence,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
