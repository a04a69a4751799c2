"""Waiting on a pathway's state through the API (bounded; it waits on state, not on time)."""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

TRIES = 300
"""Reads of the view, 0.1 s apart, before a wait gives up."""


async def poll_view(
    api: httpx.AsyncClient,
    pathway_id: str,
    what: str,
    check: Callable[[dict[str, Any]], bool],
    *,
    tries: int = TRIES,
) -> dict[str, Any]:
    view: dict[str, Any] = {}
    for _ in range(tries):
        response = await api.get(f"/v1/pathways/{pathway_id}")
        assert response.status_code == 200, response.text
        view = response.json()
        if check(view):
            return view
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"pathway never reached {what}: stage {view.get('stage')}, next {view.get('next_action')}"
    )


def next_action_is(action: str) -> Callable[[dict[str, Any]], bool]:
    return lambda v: v["next_action"] is not None and v["next_action"]["action"] == action


async def list_all(api: httpx.AsyncClient, params: dict[str, str]) -> list[dict[str, Any]]:
    """Every pathway `GET /v1/pathways` lists for these filters, following the page tokens (bounded)."""
    items: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(100):
        page_params = {**params, "page_size": "500"} | ({"page_token": token} if token else {})
        response = await api.get("/v1/pathways", params=page_params)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        token = page["next_page_token"]
        if token is None:
            return items
    raise AssertionError(f"the listing for {params} never ended")


async def poll_list(
    api: httpx.AsyncClient,
    params: dict[str, str],
    what: str,
    check: Callable[[set[str]], bool],
    *,
    tries: int = 300,
) -> set[str]:
    """Polls the listing (visibility is eventually consistent) until the listed pathway ids pass `check`."""
    listed: set[str] = set()
    for _ in range(tries):
        listed = {item["pathway_id"] for item in await list_all(api, params)}
        if check(listed):
            return listed
        await asyncio.sleep(0.1)
    raise AssertionError(f"the listing for {params} never showed {what}: {sorted(listed)}")
