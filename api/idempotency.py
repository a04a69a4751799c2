"""The `Idempotency-Key` header: a retry returns the first answer, a key reused with another body is refused.

A key is scoped to the API client and the route. On a step POST it becomes the Temporal Update id (a digest
of client, route and key: bounded and free of PHI), so a retry after a timeout or a lost answer attaches to
the first Update, or reads its stored outcome, instead of recording the step again. The key is claimed in
PostgreSQL with a hash of the request before the step is sent, and released when the pathway refuses it.
"""

import hashlib
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Header
from pydantic import BaseModel

from api.problems import Problem
from db.api_clients import ApiClient
from db.idempotency import find_key, forget_key, mark_taken, remember_key

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="A retry with the same key (and the same body) returns the first answer",
    ),
]


def request_hash(body: BaseModel) -> str:
    """The request as the contract reads it: an omitted default and the default itself are the same body."""
    return hashlib.sha256(body.model_dump_json(exclude_defaults=True).encode()).hexdigest()


def reused() -> Problem:
    return Problem(422, "idempotency-key-reused", "This Idempotency-Key was used with a different request.")


@dataclass(frozen=True)
class StepKey:
    """A claimed key of a step POST."""

    client_id: str
    route: str
    key: str
    request_hash: str
    taken: bool = False
    """A retry of a step already taken: it is answered without sending the Update again."""

    @property
    def update_id(self) -> str:
        # The body's hash is part of the id: a key released after its Update failed (the step was refused
        # once accepted) carries a corrected body to a new Update, not back to the stored failure. Client
        # ids are UUIDs, routes and hashes have no "|": the key, last, cannot shift the other parts.
        scoped = f"{self.client_id}|{self.route}|{self.request_hash}|{self.key}"
        return f"step-{hashlib.sha256(scoped.encode()).hexdigest()}"


async def claim_step_key(
    pool: asyncpg.Pool, client: ApiClient, route: str, key: str, workflow_id: str, body: BaseModel
) -> StepKey:
    """Claims the key for this step on this workflow (the pathway, or its relief check for a pain report),
    or finds it claimed by the same request before.

    The same key on the same route with another body, or for another workflow, is refused (422)."""
    claim = StepKey(client.client_id, route, key, request_hash(body))
    stored, _ = await remember_key(pool, client.client_id, route, key, claim.request_hash, workflow_id)
    if (stored.request_hash, stored.pathway_id) != (claim.request_hash, workflow_id):
        raise reused()
    return StepKey(claim.client_id, route, key, claim.request_hash, taken=stored.taken)


async def step_key_taken(pool: asyncpg.Pool, claim: StepKey) -> None:
    """The step was taken: a retry with the key is answered without sending it again (the workflow may have
    continued as new since, and an Update's id is remembered by one run only)."""
    await mark_taken(pool, claim.client_id, claim.route, claim.key, claim.request_hash)


async def claimed_workflow(
    pool: asyncpg.Pool, client: ApiClient, route: str, key: str, body: BaseModel, pathway_id: str
) -> str | None:
    """The workflow a key was claimed for by the same request before (a retry), or None. A key claimed for
    another pathway's workflow is refused (422): the retry must not land on that pathway."""
    stored = await find_key(pool, client.client_id, route, key)
    if stored is None or stored.request_hash != request_hash(body):
        return None
    if stored.pathway_id != pathway_id and not stored.pathway_id.startswith(f"{pathway_id}-"):
        raise reused()
    return stored.pathway_id


async def release_step_key(pool: asyncpg.Pool, claim: StepKey) -> None:
    """The pathway refused the step, so its Update is not in history: the key may be used again."""
    await forget_key(pool, claim.client_id, claim.route, claim.key, claim.request_hash)
