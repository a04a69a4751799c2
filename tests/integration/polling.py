"""Waiting on a pathway's state through the API (bounded; it waits on state, not on time)."""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx


async def poll_view(
    api: httpx.AsyncClient,
    pathway_id: str,
    what: str,
    check: Callable[[dict[str, Any]], bool],
    *,
    tries: int = 300,
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
