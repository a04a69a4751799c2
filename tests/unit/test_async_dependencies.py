"""No route dependency runs in FastAPI's thread pool: each is `async def` (or an object whose `__call__` is),
so a request makes no thread hop for what is an attribute read (api/dependencies.py)."""

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from api.app import create_app
from config.settings import Settings


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _is_async(call: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(type(call).__call__)


def test_every_dependency_of_every_route_is_async() -> None:
    app = create_app(Settings())
    routes = [context.original_route for context in iter_route_contexts(app.routes)]
    calls = {call for route in routes if isinstance(route, APIRoute) for call in _calls(route.dependant)}
    assert len(calls) > 5  # the pool, the client, the key, its sites, the pathway's handle...
    assert sorted(getattr(call, "__qualname__", repr(call)) for call in calls if not _is_async(call)) == []
