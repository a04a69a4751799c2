"""Clinic policies, versioned and append-only: the current one is the highest version.

Written and read as JSON text, so a plain connection (the seed's) works as a pool's does.

A clinic that has no policy stored yet gets the defaults as its version 1 the first time its policy is read
(by the API, or by a pathway starting there), so every pathway carries a version that can be read back.
"""

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from db.pool import Connection
from domain.contract import FROM_HISTORY
from domain.policy import ClinicPolicy

DEFAULTS_AUTHOR = "defaults"


@dataclass(frozen=True)
class PolicyVersion:
    clinic_site: str
    version: int
    policy: ClinicPolicy
    created_at: datetime
    created_by: str


def _version(row: asyncpg.Record | None) -> PolicyVersion:
    assert row is not None
    # Stored by this or another build: a field that is no longer in the contract is dropped, not refused.
    policy = ClinicPolicy.model_validate(json.loads(row["policy"]), context={FROM_HISTORY: True})
    return PolicyVersion(
        clinic_site=row["clinic_site"],
        version=row["version"],
        policy=policy,
        created_at=row["created_at"],
        created_by=row["created_by"],
    )


async def clinic_exists(conn: Connection, clinic_site: str) -> bool:
    return bool(await conn.fetchval("select exists (select 1 from clinics where site = $1)", clinic_site))


async def current_policy(conn: Connection, clinic_site: str, defaults: ClinicPolicy) -> PolicyVersion | None:
    """The clinic's current policy (its defaults stored as version 1 if it had none); None for an unknown
    clinic. A clinic with a policy costs one statement: policies are only ever added, each version after the
    one before, so a clinic that has any has a version 1 and the defaults would not be stored."""
    latest = await conn.fetchrow(_LATEST, clinic_site)
    if latest is not None:
        return _version(latest)
    if not await clinic_exists(conn, clinic_site):
        return None
    await conn.execute(
        "insert into clinic_policies (clinic_site, version, policy, created_by)"
        " values ($1, 1, $2::text::jsonb, $3)"
        " on conflict (clinic_site, version) do nothing",
        clinic_site,
        defaults.model_dump_json(),
        DEFAULTS_AUTHOR,
    )
    return _version(await conn.fetchrow(_LATEST, clinic_site))


_LATEST = (
    "select clinic_site, version, policy::text as policy, created_at, created_by from clinic_policies"
    " where clinic_site = $1 order by version desc limit 1"
)


async def replace_policy(
    conn: Connection, clinic_site: str, policy: ClinicPolicy, created_by: str
) -> PolicyVersion | None:
    """Stores `policy` as the clinic's next version; None for an unknown clinic. Call it in a transaction: the
    clinic's row is locked, so two replacements at once get consecutive versions."""
    if await conn.fetchval("select site from clinics where site = $1 for update", clinic_site) is None:
        return None
    row = await conn.fetchrow(
        "insert into clinic_policies (clinic_site, version, policy, created_by)"
        " select $1, coalesce(max(version), 0) + 1, $2::text::jsonb, $3"
        " from clinic_policies where clinic_site = $1"
        " returning clinic_site, version, policy::text as policy, created_at, created_by",
        clinic_site,
        policy.model_dump_json(),
        created_by,
    )
    return _version(row)
