"""The append-only audit trail of every PHI read and write, and its export by period."""

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from db.pool import Connection, Queryable


async def record(
    conn: Queryable,
    *,
    actor: str,
    action: str,
    patient_ref: str | None = None,
    pathway_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        "insert into audit_log (actor, action, patient_ref, pathway_id, detail) values ($1, $2, $3, $4, $5)",
        actor,
        action,
        patient_ref,
        pathway_id,
        detail or {},
    )


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    patient_ref: str | None
    pathway_id: str | None
    detail: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """One line of an export: `at` in ISO 8601 UTC."""
        return {**asdict(self), "at": self.at.astimezone(UTC).isoformat()}


async def entries_between(
    conn: Connection, since: datetime, until: datetime, *, batch: int = 500
) -> AsyncIterator[AuditEntry]:
    """The entries written in [since, until), oldest first, read from one snapshot (a repeatable-read,
    read-only transaction held while the caller iterates): an export is consistent however long it takes."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = conn.cursor(
            "select id, at, actor, action, patient_ref, pathway_id, detail from audit_log"
            " where at >= $1 and at < $2 order by at, id",
            since,
            until,
            prefetch=batch,
        )
        async for row in cursor:
            yield AuditEntry(
                id=row["id"],
                at=row["at"],
                actor=row["actor"],
                action=row["action"],
                patient_ref=None if row["patient_ref"] is None else str(row["patient_ref"]),
                pathway_id=row["pathway_id"],
                detail=row["detail"],
            )
