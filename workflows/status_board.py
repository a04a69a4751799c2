"""The status board: the one writer of what operations staff and upstream systems see of a pathway.

Stage, outcome, next action, attention and the timeline live here. Search attributes are written once per
workflow task at most, merged and with unchanged values skipped (each upsert is a history event and a
visibility write); the Temporal UI's current details are rewritten with them, in plain words.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from domain.reminders import local_text
    from domain.stages import Actor, AttentionReason, Outcome, PathwayStatus, ReliefResult, Stage
    from domain.view import NextAction, TimelineEntry

from workflows import search_attributes as sa

SearchAttributeValue = str | bool | datetime | None


class StatusBoard:
    def __init__(self, clinic_timezone: str, on_attention: Callable[[AttentionReason], None]) -> None:
        self.stage = Stage.INTAKE
        self.status = PathwayStatus.ACTIVE
        self.outcome: Outcome | None = None
        self.outcome_reason: str | None = None
        self.next_action: NextAction | None = None
        self.attention: list[AttentionReason] = []
        self.timeline: list[TimelineEntry] = []
        self.stage_since = workflow.now()
        self._timezone = clinic_timezone
        self._on_attention = on_attention
        # The values the pathway was started with (workflows/start.py), then what was last written.
        self._written: dict[str, SearchAttributeValue] = {
            sa.PATHWAY_STAGE.name: Stage.INTAKE.value,
            sa.NEEDS_ATTENTION.name: False,
        }
        self._pending: dict[str, tuple[SearchAttributeValue, SearchAttributeUpdate[Any]]] = {}
        self._details_stale = True

    @property
    def active(self) -> bool:
        return self.status == PathwayStatus.ACTIVE

    # ---- what changes ----------------------------------------------------------------------------------

    def enter(self, stage: Stage) -> None:
        self.stage, self.stage_since = stage, workflow.now()
        self._set(sa.PATHWAY_STAGE.name, stage.value, sa.PATHWAY_STAGE.value_set(stage.value))
        self.event("stage_entered", stage.value)

    def set_next_action(self, actor: Actor, action: str, due_at: datetime | None) -> None:
        self.next_action = NextAction(actor=actor, action=action, due_at=due_at)
        self._set_due(due_at)

    def raise_attention(self, reason: AttentionReason, *, staff_told: bool = False) -> None:
        """Flags the pathway for a person; staff are told once per reason while it stands (unless whoever
        raised it has told them)."""
        if reason in self.attention or not self.active:
            return
        self.attention.append(reason)
        self._set_needs_attention()
        self.event("needs_attention", reason.words)
        if not staff_told:
            self._on_attention(reason)

    def clear_attention(self, reason: AttentionReason) -> None:
        if reason not in self.attention:
            return
        self.attention.remove(reason)
        self._set_needs_attention()
        self.event("attention_cleared", reason.words)

    def set_block_result(self, result: ReliefResult) -> None:
        self._set(sa.BLOCK_RESULT.name, result.value, sa.BLOCK_RESULT.value_set(result.value))

    def finish(self, stage: Stage, outcome: Outcome, reason: str) -> None:
        """The pathway ends: nothing is waited for, and only a completed pathway's red flags would stay raised
        (a pathway with red flags completes only once staff resolved them)."""
        self.stage, self.stage_since = stage, workflow.now()
        self.status = PathwayStatus.COMPLETED if stage == Stage.COMPLETED else PathwayStatus.CLOSED
        self.outcome, self.outcome_reason = outcome, reason
        self.next_action = None
        keep = stage == Stage.COMPLETED
        self.attention = [r for r in self.attention if keep and r == AttentionReason.RED_FLAGS]
        self._set(sa.PATHWAY_STAGE.name, stage.value, sa.PATHWAY_STAGE.value_set(stage.value))
        self._set(sa.PATHWAY_OUTCOME.name, outcome.value, sa.PATHWAY_OUTCOME.value_set(outcome.value))
        self._set_needs_attention()
        self._set_due(None)
        self.event(f"pathway_{stage.value}", f"{outcome.value}: {reason}")

    def event(self, event: str, detail: str = "") -> None:
        self.timeline.append(TimelineEntry(at=workflow.now(), event=event, detail=detail))
        self._details_stale = True

    # ---- writing it out --------------------------------------------------------------------------------

    @property
    def unpublished(self) -> bool:
        return bool(self._pending) or self._details_stale

    def publish(self) -> None:
        """Writes the changed search attributes in one upsert, and the current details."""
        changed = [
            (name, value, update)
            for name, (value, update) in self._pending.items()
            if self._written.get(name, None) != value
        ]
        if changed:
            workflow.upsert_search_attributes([update for _, _, update in changed])
            self._written.update({name: value for name, value, _ in changed})
        self._pending.clear()
        if self._details_stale:
            workflow.set_current_details(self.details())
            self._details_stale = False

    def details(self) -> str:
        """Stage, what the pathway waits for and since when, and why it needs a person; no free text."""
        lines = [f"**Stage:** {self.stage.value} (since {self.local(self.stage_since)})"]
        if self.outcome is not None:
            lines.append(f"**Outcome:** {self.outcome.value}")
        if self.next_action is not None:
            due = f", due {self.local(self.next_action.due_at)}" if self.next_action.due_at else ""
            lines.append(f"**Waiting for:** {self.next_action.actor.value} to {self.next_action.action}{due}")
        if self.attention:
            lines.append(f"**Needs attention:** {', '.join(r.words for r in self.attention)}")
        return "\n\n".join(lines)

    def local(self, at: datetime) -> str:
        return local_text(at, self._timezone)

    def _set_needs_attention(self) -> None:
        needed = bool(self.attention)
        self._set(sa.NEEDS_ATTENTION.name, needed, sa.NEEDS_ATTENTION.value_set(needed))

    def _set_due(self, due_at: datetime | None) -> None:
        update = sa.NEXT_ACTION_DUE.value_set(due_at) if due_at else sa.NEXT_ACTION_DUE.value_unset()
        self._set(sa.NEXT_ACTION_DUE.name, due_at, update)

    def _set(self, name: str, value: SearchAttributeValue, update: SearchAttributeUpdate[Any]) -> None:
        self._pending[name] = (value, update)
        self._details_stale = True
