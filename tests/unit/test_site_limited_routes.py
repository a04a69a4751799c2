"""Every route an API key opens is held to the key's clinic sites, or says why it concerns no one site: a
route added later cannot forget it. (What each check answers: tests/integration/test_site_limited_keys.py.)
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from api.app import create_app
from api.auth import authenticated_client
from api.dependencies import pathway_handle
from api.site_access import SITE_INDEPENDENT_ROUTES, SiteAccess, site_access
from config.settings import Settings


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _routes() -> list[tuple[str, APIRoute]]:
    # Routers are included lazily: their routes are reached through their contexts.
    app = create_app(Settings())
    routes = [context.original_route for context in iter_route_contexts(app.routes)]
    return [
        (f"{method} {route.path}", route)
        for route in routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
    ]


def _key_routes() -> list[tuple[str, APIRoute]]:
    return [(n, route) for n, route in _routes() if authenticated_client in set(_calls(route.dependant))]


def test_the_api_has_key_authenticated_routes_to_check() -> None:
    names = {name for name, _ in _key_routes()}
    assert {"POST /v1/referrals", "GET /v1/pathways", "PATCH /v1/patients/{patient_ref}"} <= names


@pytest.mark.parametrize(("name", "route"), _key_routes(), ids=[name for name, _ in _key_routes()])
def test_each_key_route_is_site_checked_or_says_why_not(name: str, route: APIRoute) -> None:
    checked = site_access in set(_calls(route.dependant))
    assert checked or SITE_INDEPENDENT_ROUTES.get(name), (
        f"{name} takes an API key but not its sites: take `Sites` (api/site_access.py) and check them, or"
        " list the route in SITE_INDEPENDENT_ROUTES with the reason"
    )
    assert not (checked and name in SITE_INDEPENDENT_ROUTES), f"{name} is site-checked and listed as not"


def test_every_route_on_one_pathway_checks_its_site_before_the_body_is_read() -> None:
    # Checked in the dependency that finds the pathway: another site's pathway and an unknown one are then
    # the same 404 to a limited key, whatever body it sends.
    on_a_pathway = [(n, r) for n, r in _key_routes() if "{pathway_id}" in r.path]
    assert on_a_pathway
    unchecked = [n for n, r in on_a_pathway if pathway_handle not in set(_calls(r.dependant))]
    assert unchecked == []


def test_the_site_independent_list_names_only_routes_that_exist() -> None:
    names = {name for name, _ in _routes()}
    assert set(SITE_INDEPENDENT_ROUTES) <= names


def test_a_limited_key_lists_only_its_sites_and_an_unlimited_key_everything() -> None:
    assert SiteAccess(None).visibility_clause() is None
    limited = SiteAccess(frozenset({"tucson-east", "phoenix-main"}))
    assert limited.visibility_clause() == "ClinicSite IN ('phoenix-main', 'tucson-east')"
    assert limited.allows("phoenix-main")
    assert not limited.allows("mesa-north")
    assert not limited.allows(None)
    assert SiteAccess(None).allows("mesa-north")


@pytest.mark.parametrize("site", ["x' OR ClinicSite != 'y", "a b", "", "x" * 129])
def test_a_site_that_could_change_the_visibility_query_is_refused(site: str) -> None:
    with pytest.raises(ValueError, match="not a plain identifier"):
        SiteAccess(frozenset({site})).visibility_clause()
