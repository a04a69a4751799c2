"""Schemathesis against the whole API: every operation of the published OpenAPI document, fuzzed.

The API runs for real (tests/integration/live_stack.py): uvicorn, a Temporal dev server, a worker, PostgreSQL
with the demo clinic. Referrals name the real clinic site, and most step requests target real pathways, so
requests reach the workflows and not only the validators. Every answer must be documented (status, content
type, schema, headers); none may be a 500, nor a 503 while everything is up.

Bounded: a fixed number of examples per operation, without Hypothesis' example database, so the run takes
about the same time every time.
"""

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, CheckContext, Response
from schemathesis import Case as AnyCase
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from api.app import create_app
from config.settings import Settings
from tests.integration.conftest import API_KEY
from tests.integration.live_stack import LiveStack
from tests.referrals import referral_body

CLINIC_SITE = "phoenix-main"  # the seeded demo clinic
# Policy requests land on a clinic of their own: the fuzzed policies never reach the demo clinic's pathways.
POLICY_CLINIC = "fuzz-policy-clinic"
EXAMPLES_PER_OPERATION = 60
PATHWAYS = 6
AUTH = {"Authorization": f"Bearer {API_KEY}"}
Case = AnyCase[APIOperation[Any, Any, Any, Any]]
RECENT_MRI = (date.today() - timedelta(days=30)).isoformat()


@pytest.fixture(scope="module")
def live_api(database: str, pool: object) -> Iterator[str]:
    # `pool` installs the API keys. The throttle is lifted: schemathesis sends no key on purpose.
    stack_settings = Settings(profile="demo", update_timeout_seconds=20, auth_failures_allowed=1_000_000)
    asyncio.run(_add_policy_clinic(database))
    with LiveStack(database, stack_settings) as base_url:
        yield base_url
    _check_the_run_reached_the_pathways()


async def _add_policy_clinic(database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        await conn.execute(
            "insert into clinics (site, name, timezone) values ($1, 'Fuzzed policies', 'America/Phoenix')"
            " on conflict (site) do nothing",
            POLICY_CLINIC,
        )
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def real_pathways(live_api: str) -> list[str]:
    """Pathways started through the API, for step requests to land on."""
    ids = []
    with httpx.Client(base_url=live_api, headers=AUTH) as client:
        for n in range(PATHWAYS):
            created = client.post("/v1/referrals", json=referral_body(f"REF-FUZZ-{n}"))
            assert created.status_code in (200, 201), created.text
            ids.append(created.json()["pathway_id"])
    LANDING[:] = ids
    return ids


# Built from the application's own document at import; the requests go to the live stack (`base_url`).
DOCUMENT = create_app(Settings()).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)
# Pathways of the live stack for step requests to land on, filled in by the `real_pathways` fixture.
LANDING: list[str] = []


@schema.hook
def map_case(context: schemathesis.HookContext, case: Case) -> Case:
    """Referrals for the clinic the orchestrator knows, with dates and a time zone it can use, or nearly every
    referral would be refused for them alone; an Idempotency-Key that names its body, so a key is only ever
    reused for the same referral (a replay) and each distinct referral is tried."""
    if case.operation.path != "/v1/referrals" or not isinstance(case.body, dict):
        return case
    body: dict[str, Any] = {**case.body, "clinic_site": CLINIC_SITE}
    patient, mri = body.get("patient"), body.get("mri")
    if isinstance(patient, dict):
        body["patient"] = {**patient, "timezone": "America/Phoenix", "birth_date": "1968-04-02"}
    if isinstance(mri, dict):
        body["mri"] = {**mri, "performed_on": RECENT_MRI}
    case.body = body
    if case.headers is not None and "Idempotency-Key" in case.headers:
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
        case.headers["Idempotency-Key"] = f"fuzz-{digest[:40]}"
    return case


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    # Mostly a real clinic; sometimes the generated site (an unknown or malformed one).
    if path_parameters and "clinic_site" in path_parameters:
        sites = st.sampled_from([POLICY_CLINIC, POLICY_CLINIC, path_parameters["clinic_site"]])
        return sites.map(lambda site: {**path_parameters, "clinic_site": site})
    # Mostly real pathways; sometimes the generated id (an unknown or malformed one).
    if not path_parameters or "pathway_id" not in path_parameters or not LANDING:
        return st.just(path_parameters)
    choices = st.sampled_from([*LANDING, path_parameters["pathway_id"]])
    return choices.map(lambda pathway_id: {**path_parameters, "pathway_id": pathway_id})


def no_outage_while_up(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Everything is up: a 503 would be an outage the API invented."""
    if response.status_code == 503:
        raise AssertionError(f"503 while PostgreSQL and Temporal are up: {response.text[:300]}")
    return None


CHECKS: list[CheckFunction] = [
    not_a_server_error,
    no_outage_while_up,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    ignored_auth,
    unsupported_method,
]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_documented_and_none_is_a_server_error(
    case: Case, live_api: str, real_pathways: list[str]
) -> None:
    case.call_and_validate(base_url=live_api, headers=AUTH, checks=CHECKS)


# What the run was answered, by operation and status: `live_api` checks it when the module's run is over.
ANSWERED: Counter[tuple[str, int]] = Counter()


@schema.hook
def after_call(context: schemathesis.HookContext, case: Case, response: Response) -> None:
    ANSWERED[(f"{case.method} {case.path}", response.status_code)] += 1


def _check_the_run_reached_the_pathways() -> None:
    """The fuzzed requests were not all refused at the door: referrals started pathways, and steps and reads
    landed on real ones. Checked when every operation was fuzzed (a run narrowed with -k fuzzes fewer)."""
    every_operation = {
        f"{method.upper()} {path}" for path, methods in DOCUMENT["paths"].items() for method in methods
    }
    if every_operation - {operation for operation, _ in ANSWERED}:
        return
    assert ANSWERED[("POST /v1/referrals", 201)] > 0
    assert ANSWERED[("GET /v1/pathways/{pathway_id}", 200)] > 0
    steps_taken = sum(
        n for (op, status), n in ANSWERED.items() if op.startswith("POST /v1/pathways/") and status == 200
    )
    assert steps_taken > 0
    assert ANSWERED[("PUT /v1/clinics/{clinic_site}/policy", 200)] > 0
    assert ANSWERED[("GET /v1/clinics/{clinic_site}/policy", 200)] > 0
