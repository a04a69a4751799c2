"""The Temporal UI as the staff dashboard: its workflow list, filtered with ready-made queries, with the
pathway's search attributes as columns. The one place the filters are written: README's table
(`readme_table`) and `dvr-admin dashboard links` are built from here, and tests run every query against a
real Temporal server.

Temporal's list filters take absolute times only (the server refuses relative ones such as `'-7d'`, and
`now()`), so the two filters that need "now" are built for a moment: the command prints them for the present;
README shows them as of `README_AS_OF`, a date to change in the UI's query box.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from domain.stages import Outcome, Stage
from workflows import search_attributes as sa

LOCAL_UI = "http://127.0.0.1:8233"
README_ZONE = ZoneInfo("America/Phoenix")  # the demo clinic's
README_AS_OF = datetime(2027, 1, 4, 9, 0, tzinfo=README_ZONE)  # a Monday morning

PATHWAYS = "WorkflowType = 'PatientPathway'"
RUNNING = "ExecutionStatus = 'Running'"
# The stages whose next step is a clinician's (an MRI review, an exam, a block, a candidacy decision, the
# procedure record, a screening review); in the others the pathway waits for the patient or for staff.
CLINICIAN_STAGES = (Stage.INTAKE, Stage.MRI, Stage.EXAM, Stage.BLOCK, Stage.CANDIDACY, Stage.DVR_SCHEDULED)

COLUMNS = (
    (sa.PATHWAY_STAGE.name, "where the pathway stands"),
    (sa.NEXT_ACTION_DUE.name, "when the step it waits for is due"),
    (sa.NEEDS_ATTENTION.name, "a person must act (the workflow's details say why)"),
    (sa.PATHWAY_OUTCOME.name, "why it ended"),
    (sa.CLINIC_SITE.name, "which clinic"),
    (sa.BLOCK_RESULT.name, "the latest block's verdict"),
)


@dataclass(frozen=True)
class Filter:
    title: str
    query: str
    meaning: str
    outcome: Outcome | None = None
    """Set on the "closed this week" filters narrowed to one outcome."""


def filters(now: datetime, zone: ZoneInfo, site: str | None = None) -> list[Filter]:
    """The staff's filters as of `now`; "this week" starts on Monday 00:00 in `zone`. With `site`, each is
    narrowed to that clinic."""
    where = [PATHWAYS] + ([f"{sa.CLINIC_SITE.name} = '{site}'"] if site else [])
    local = now.astimezone(zone)
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), time(0), tzinfo=zone)
    stages = ", ".join(f"'{stage.value}'" for stage in CLINICIAN_STAGES)

    def q(*clauses: str) -> str:
        return " AND ".join([*where, *clauses])

    closed = q(f"ExecutionStatus != 'Running' AND CloseTime >= '{_instant(monday)}'")
    return [
        Filter(
            "Needs attention",
            q(RUNNING, f"{sa.NEEDS_ATTENTION.name} = true"),
            "every open pathway a person must act on",
        ),
        Filter(
            "Waiting on a clinician, past due",
            q(
                RUNNING,
                f"{sa.PATHWAY_STAGE.name} IN ({stages})",
                f"{sa.NEXT_ACTION_DUE.name} < '{_instant(now)}'",
            ),
            "a clinician's step is late",
        ),
        Filter(
            "Relief checks running",
            q(RUNNING, f"{sa.PATHWAY_STAGE.name} = '{Stage.RELIEF_CHECK.value}'"),
            "patients keeping a pain diary after a block",
        ),
        Filter("Closed this week", closed, "ended since Monday, any outcome"),
        *(
            Filter(
                f"Closed this week: {outcome.value}",
                f"{closed} AND {sa.PATHWAY_OUTCOME.name} = '{outcome.value}'",
                f"ended since Monday as {outcome.value}",
                outcome,
            )
            for outcome in Outcome
        ),
    ]


def list_url(query: str, ui: str = LOCAL_UI, namespace: str = "default") -> str:
    """The UI's workflow list filtered by `query`."""
    return f"{ui.rstrip('/')}/namespaces/{quote(namespace, safe='')}/workflows?query={quote(query, safe='')}"


def readme_table(ui: str = LOCAL_UI) -> str:
    """The table README carries (tests/unit/test_dashboard_links.py checks it is this one): a row per filter,
    and one row for the closed ones by outcome."""
    rows = ["| filter | shows | query |", "|---|---|---|"]
    every = filters(README_AS_OF, README_ZONE)
    for f in every:
        if f.outcome is None:
            rows.append(f"| [{f.title}]({list_url(f.query, ui)}) | {f.meaning} | `{f.query}` |")
    by_outcome = " · ".join(f"[{f.outcome.value}]({list_url(f.query, ui)})" for f in every if f.outcome)
    rows.append(
        f"| Closed this week by outcome: {by_outcome} | ended since Monday with that outcome"
        f" | the one above `AND {sa.PATHWAY_OUTCOME.name} = '<outcome>'` |"
    )
    return "\n".join(rows)


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
