"""Counting a clinic's open pathways in Temporal's visibility store, for the operations gauges.

Temporal counts by one query at a time (`GROUP BY` takes only ExecutionStatus), so a clinic costs one count
of its open pathways and, when it has any, one per open stage plus two (needing attention, next action
overdue). Visibility is eventually consistent: a count may trail a change by a moment.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio.client import Client

from domain.stages import Stage
from workflows import search_attributes as sa

OPEN_STAGES: tuple[Stage, ...] = tuple(s for s in Stage if s not in (Stage.COMPLETED, Stage.CLOSED))
CLINIC_SITE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}\Z")
"""The clinic sites a query may name: as the API's `clinic_site` filter takes them, no quote possible."""


@dataclass(frozen=True)
class ClinicCounts:
    open_by_stage: dict[Stage, int]
    needing_attention: int
    next_action_overdue: int


async def count_clinic(
    client: Client, clinic_site: str, now: datetime, rpc_timeout: timedelta
) -> ClinicCounts:
    """The clinic's running pathways: by stage, those needing attention, those whose next action is past
    due at `now`. Raises ValueError for a site no query may name."""
    if not CLINIC_SITE.fullmatch(clinic_site):
        raise ValueError("a clinic site with characters a visibility query cannot take")
    base = (
        "WorkflowType = 'PatientPathway' AND ExecutionStatus = 'Running'"
        f" AND {sa.CLINIC_SITE.name} = '{clinic_site}'"
    )

    async def count(condition: str | None = None) -> int:
        query = base if condition is None else f"{base} AND {condition}"
        return (await client.count_workflows(query, rpc_timeout=rpc_timeout)).count

    if await count() == 0:  # most clinics, most of the time on a small deployment: one query
        return ClinicCounts({stage: 0 for stage in OPEN_STAGES}, 0, 0)
    by_stage = {stage: await count(f"{sa.PATHWAY_STAGE.name} = '{stage.value}'") for stage in OPEN_STAGES}
    due = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ClinicCounts(
        open_by_stage=by_stage,
        needing_attention=await count(f"{sa.NEEDS_ATTENTION.name} = true"),
        next_action_overdue=await count(f"{sa.NEXT_ACTION_DUE.name} < '{due}'"),
    )
