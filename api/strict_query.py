"""A query parameter the route does not declare is refused (422), as an unknown body field is.

A misspelt filter (`?stag=closed`) would otherwise be ignored, and the answer would be the unfiltered list.
"""

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute


def _declared(dependant: Dependant) -> set[str]:
    """The query parameters a route declares, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _declared(dependency)
    return names


async def refuse_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _declared(route.dependant))
    if unknown:
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": "Unknown query parameter", "type": "extra_forbidden"}
                for name in unknown
            ]
        )
