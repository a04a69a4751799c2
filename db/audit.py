"""The append-only audit trail of every PHI read and write."""

from typing import Any

from db.pool import Queryable


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
