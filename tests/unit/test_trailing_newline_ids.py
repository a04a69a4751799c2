"""An id in a path is checked whole: `$` with `re.match` lets a final newline through, and the id then
reaches the database or Temporal (with the newline) instead of being answered 404 at once."""

from typing import Any, cast

import asyncpg
import pytest
from temporalio.client import Client

from api.dependencies import pathway_handle
from api.problems import Problem
from api.routes.clinics import get_policy
from api.site_access import SiteAccess
from config.settings import Settings
from db.api_clients import ApiClient

NIL = "00000000-0000-0000-0000-000000000000"
EVERY_SITE = SiteAccess(None)  # an unlimited key: nothing is asked of the database to check a site


class _Untouched:
    """A pool or client the check must not reach."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} was reached with a malformed id")


def _not_found(problem: pytest.ExceptionInfo[Problem], slug: str) -> None:
    assert (problem.value.status, problem.value.slug) == (404, slug)


async def test_a_pathway_id_with_a_trailing_newline_is_404() -> None:
    with pytest.raises(Problem) as refused:
        await pathway_handle(
            cast(Client, _Untouched()), cast(asyncpg.Pool, _Untouched()), EVERY_SITE, f"pathway-{NIL}\n"
        )
    _not_found(refused, "pathway-not-found")


async def test_a_clinic_site_with_a_trailing_newline_is_404() -> None:
    client = cast(ApiClient, _Untouched())
    with pytest.raises(Problem) as refused:
        await get_policy(client, EVERY_SITE, cast(asyncpg.Pool, _Untouched()), Settings(), "phoenix-main\n")
    _not_found(refused, "clinic-not-found")
