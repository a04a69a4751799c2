"""What routes receive through `Depends`: the pool, the Temporal client, and the pathway's handle.

Every dependency of a route is `async def` (tests/unit/test_async_dependencies.py): FastAPI runs a plain `def`
one in its thread pool, a thread hop per dependency per request for what is an attribute read.
"""

import re
from typing import Annotated

import asyncpg
from fastapi import Depends, Path, Request
from temporalio.client import Client, WorkflowHandle

from api.problems import Problem
from api.site_access import Sites
from config.settings import Settings
from domain.answers import PathwayResult
from workflows.pathway import PatientPathwayWorkflow

# Matched whole (`fullmatch`): `$` would let a final newline through, to Temporal.
_PATHWAY_ID = re.compile(r"pathway-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def get_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


async def get_client(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def pathway_handle(
    client: Annotated[Client, Depends(get_client)],
    pool: Annotated[asyncpg.Pool, Depends(get_pool)],
    sites: Sites,
    pathway_id: Annotated[str, Path(description="The pathway's id, `pathway-<uuid>`")],
) -> WorkflowHandle[PatientPathwayWorkflow, PathwayResult]:
    """The pathway's handle, for a pathway the API key reaches. Another site's pathway is answered as an
    unknown one, here, before the body is read: a limited key gets 404 for both, whatever it sends."""
    if not _PATHWAY_ID.fullmatch(pathway_id) or not await sites.reaches_pathway(pool, pathway_id):
        raise Problem(404, "pathway-not-found", "No pathway has this id.")
    return client.get_workflow_handle_for(PatientPathwayWorkflow.run, pathway_id)


Pool = Annotated[asyncpg.Pool, Depends(get_pool)]
TemporalClient = Annotated[Client, Depends(get_client)]
AppSettings = Annotated[Settings, Depends(get_settings)]
PathwayHandle = Annotated[WorkflowHandle[PatientPathwayWorkflow, PathwayResult], Depends(pathway_handle)]
