"""The demo clinic follows the defaults of the stack it runs in until someone sets its policy."""

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from db.clinic_policies import DEFAULTS_AUTHOR, current_policy, replace_policy
from db.migrate import migrate
from db.seed import DEMO_SITE, seed_demo_clinic
from domain.policy import default_policy
from domain.quiet_hours import QuietHours


@pytest.fixture
async def fresh(database: str) -> AsyncIterator[asyncpg.Connection]:
    """A database of its own on the embedded server, so the shared demo clinic is left as it is."""
    name = f"seed_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(database)
    await admin.execute(f"create database {name}")
    conn = await asyncpg.connect(database, database=name)
    try:
        await migrate(conn)
        yield conn
    finally:
        await conn.close()
        await admin.execute(f"drop database {name}")
        await admin.close()


async def _policy(conn: asyncpg.Connection) -> tuple[int, str, QuietHours | None]:
    current = await current_policy(conn, DEMO_SITE, default_policy())
    assert current is not None
    return current.version, current.created_by, current.policy.quiet_hours


async def test_the_demo_profiles_clinic_has_no_quiet_hours(fresh: asyncpg.Connection) -> None:
    await seed_demo_clinic(fresh, profile="demo")
    assert await _policy(fresh) == (1, DEFAULTS_AUTHOR, None)
    await seed_demo_clinic(fresh, profile="demo")  # a second start changes nothing
    assert await _policy(fresh) == (1, DEFAULTS_AUTHOR, None)


async def test_a_start_in_another_profile_moves_the_untouched_clinic_to_its_defaults(
    fresh: asyncpg.Connection,
) -> None:
    await seed_demo_clinic(fresh, profile="demo")
    await seed_demo_clinic(fresh, profile="clinical")
    assert await _policy(fresh) == (2, DEFAULTS_AUTHOR, QuietHours(start_hour=21, end_hour=8))
    await seed_demo_clinic(fresh, 0.8, profile="demo")
    current = await current_policy(fresh, DEMO_SITE, default_policy())
    assert current is not None
    assert (current.version, current.policy) == (3, default_policy(0.8, "demo"))


async def test_a_policy_someone_set_is_kept_whatever_the_profile(fresh: asyncpg.Connection) -> None:
    await seed_demo_clinic(fresh, profile="demo")
    evenings = default_policy(profile="demo").model_copy(
        update={"quiet_hours": QuietHours(start_hour=22, end_hour=7)}
    )
    async with fresh.transaction():
        await replace_policy(fresh, DEMO_SITE, evenings, "ops-lead")
    await seed_demo_clinic(fresh, profile="demo")
    await seed_demo_clinic(fresh, profile="clinical")
    assert await _policy(fresh) == (2, "ops-lead", QuietHours(start_hour=22, end_hour=7))
