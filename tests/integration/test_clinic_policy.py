"""`GET`/`PUT /v1/clinics/{clinic_site}/policy`: versions, validation, scopes, and the policy a pathway keeps.

Each test works on a clinic of its own, so the demo clinic's policy (that every other test runs on) never
changes here.
"""

import asyncio
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from db.api_clients import upsert_client
from db.seed import DEMO_SITE
from domain.config import DEMO
from domain.inputs import PathwayInput
from domain.policy import ClinicPolicy
from domain.quiet_hours import QuietHours
from tests.integration.conftest import READ_ONLY_KEY
from tests.integration.polling import next_action_is, poll_view
from tests.integration.problems import assert_problem
from tests.integration.walk import RUN_WAIT_SECONDS, record_steps_to_relief_check
from tests.referrals import referral_body

PHOENIX = ZoneInfo("America/Phoenix")
NO_READ_KEY = "dvr_integration-key-that-writes-referrals-only"
DEFAULTS: dict[str, Any] = {
    "relief_threshold": 0.8,
    "onset_window": "PT2H",
    "comparative_blocks": False,
    "repeat_blocks_allowed": 1,
    "mri_review_due": "P3D",
    "exam_result_due": "P1D",
    "block_record_due": "P1D",
    "candidacy_decision_due": "P3D",
    "procedure_record_due": "P1D",
    "reminder_local_hour": 17,
    "follow_up_local_hour": 10,
    # The tests' API runs the demo profile, whose clinics start without quiet hours.
    "quiet_hours": None,
}
CHANGED: dict[str, Any] = {
    **DEFAULTS,
    "relief_threshold": 0.5,
    "onset_window": "PT1H30M",
    "comparative_blocks": True,
    "repeat_blocks_allowed": 2,
    "mri_review_due": "P2DT12H",
    "reminder_local_hour": 18,
    "quiet_hours": {"start_hour": 22, "end_hour": 7},
}


@pytest.fixture
async def clinic(pool: asyncpg.Pool) -> str:
    site = f"policy-test-{uuid.uuid4().hex[:8]}"
    await pool.execute(
        "insert into clinics (site, name, timezone) values ($1, $2, 'America/Phoenix')", site, "Policy test"
    )
    return site


def _path(site: str) -> str:
    return f"/v1/clinics/{site}/policy"


async def _versions(pool: asyncpg.Pool, site: str) -> list[int]:
    rows = await pool.fetch("select version from clinic_policies where clinic_site = $1 order by 1", site)
    return [r["version"] for r in rows]


async def test_a_clinic_starts_with_the_default_policy(api: httpx.AsyncClient, clinic: str) -> None:
    answer = await api.get(_path(clinic))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["clinic_site"], body["policy_version"], body["created_by"]) == (clinic, 1, "defaults")
    assert body["policy"] == DEFAULTS


async def test_the_demo_clinic_is_seeded_with_the_defaults(api: httpx.AsyncClient) -> None:
    answer = await api.get(_path("phoenix-main"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["policy"] == DEFAULTS


async def test_put_replaces_the_policy_and_bumps_the_version(
    api: httpx.AsyncClient, pool: asyncpg.Pool, clinic: str
) -> None:
    put = await api.put(_path(clinic), json=CHANGED)
    assert put.status_code == 200, put.text
    assert (put.json()["policy_version"], put.json()["policy"]) == (2, CHANGED)
    assert put.json()["created_by"] == "integration"
    read = await api.get(_path(clinic))
    assert (read.json()["policy_version"], read.json()["policy"]) == (2, CHANGED)

    # A full replacement: what the next PUT leaves out is back to its default.
    again = await api.put(_path(clinic), json={"relief_threshold": 1.0})
    assert again.status_code == 200, again.text
    assert (again.json()["policy_version"], again.json()["policy"]) == (
        3,
        {**DEFAULTS, "relief_threshold": 1.0},
    )
    assert await _versions(pool, clinic) == [1, 2, 3]  # every version kept


async def test_put_is_audited(api: httpx.AsyncClient, pool: asyncpg.Pool, clinic: str) -> None:
    put = await api.put(_path(clinic), json=CHANGED)
    assert put.status_code == 200, put.text
    row = await pool.fetchrow(
        "select actor, detail from audit_log where action = 'clinic_policy.write'"
        " and detail->>'clinic_site' = $1",
        clinic,
    )
    assert row is not None
    assert row["actor"] == "integration"
    assert row["detail"]["policy_version"] == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"onset_window": "2 hours"}, "onset_window"),
        ({"onset_window": 7200}, "onset_window"),
        ({"mri_review_due": "P1M"}, "mri_review_due"),
        ({"onset_window": "PT7H"}, "onset_window"),
        ({"relief_threshold": 0.7}, "relief_threshold"),
        ({"relief_threshold": True}, "relief_threshold"),
        ({"comparative_blocks": "yes"}, "comparative_blocks"),
        ({"reminder_local_hour": 24}, "reminder_local_hour"),
        ({"quiet_hours": {"start_hour": 8, "end_hour": 8}}, "quiet_hours"),
        ({"relief_threshhold": 0.8}, "relief_threshhold"),
    ],
)
async def test_an_invalid_put_is_refused_and_changes_nothing(
    api: httpx.AsyncClient, pool: asyncpg.Pool, clinic: str, change: dict[str, Any], field: str
) -> None:
    before = (await api.get(_path(clinic))).json()
    refused = await api.put(_path(clinic), json={**DEFAULTS, **change})
    problem = assert_problem(refused, 422, "/problems/invalid-request")
    assert [e["loc"] for e in problem["errors"]] == [["body", field]]
    assert (await api.get(_path(clinic))).json() == before
    assert await _versions(pool, clinic) == [1]


@pytest.mark.parametrize("site", ["no-such-clinic", "bad%20site"])
async def test_an_unknown_clinic_is_404(api: httpx.AsyncClient, site: str) -> None:
    assert_problem(await api.get(_path(site)), 404, "/problems/clinic-not-found")
    assert_problem(await api.put(_path(site), json=DEFAULTS), 404, "/problems/clinic-not-found")


async def test_reading_needs_pathways_read_and_replacing_needs_admin(
    api: httpx.AsyncClient, pool: asyncpg.Pool, clinic: str
) -> None:
    await upsert_client(pool, "referrals-only", NO_READ_KEY, ("referrals:write",))
    no_read = {"Authorization": f"Bearer {NO_READ_KEY}"}
    read_only = {"Authorization": f"Bearer {READ_ONLY_KEY}"}
    assert_problem(await api.get(_path(clinic), headers=no_read), 403, "/problems/forbidden")
    assert (await api.get(_path(clinic), headers=read_only)).status_code == 200
    refused = await api.put(_path(clinic), json=CHANGED, headers=read_only)
    assert_problem(refused, 403, "/problems/forbidden")
    assert await _versions(pool, clinic) == [1]


async def _started_with(temporal: Client, pathway_id: str) -> PathwayInput:
    history = await temporal.get_workflow_handle(pathway_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [pathway_input] = await temporal.data_converter.decode(started.input.payloads, [PathwayInput])
    assert isinstance(pathway_input, PathwayInput)
    return pathway_input


async def _start(api: httpx.AsyncClient, clinic: str) -> str:
    body = referral_body(f"REF-POLICY-{uuid.uuid4().hex[:8]}") | {"clinic_site": clinic}
    created = await api.post("/v1/referrals", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["policy_version"] is not None
    pathway_id: str = created.json()["pathway_id"]
    return pathway_id


async def test_a_pathway_keeps_the_policy_it_started_with(
    api: httpx.AsyncClient, temporal: Client, clinic: str
) -> None:
    earlier = await _start(api, clinic)
    put = await api.put(_path(clinic), json=CHANGED)
    assert put.status_code == 200, put.text
    later = await _start(api, clinic)

    earlier_view = await poll_view(api, earlier, "mri review due", next_action_is("mri_review"))
    later_view = await poll_view(api, later, "mri review due", next_action_is("mri_review"))
    assert (earlier_view["policy_version"], later_view["policy_version"]) == (1, 2)

    earlier_input, later_input = await _started_with(temporal, earlier), await _started_with(temporal, later)
    assert (earlier_input.policy_version, later_input.policy_version) == (1, 2)
    # The API runs the demo profile: the clinic's numbers, compressed as the demo compresses the defaults.
    assert earlier_input.config == DEMO
    assert later_input.config.relief.threshold == 0.5
    assert later_input.config.relief.repeat_blocks_allowed == 2
    assert later_input.config.reminder_local_hour == 18
    assert later_input.config.mri_review_due == ClinicPolicy.model_validate(CHANGED).mri_review_due / 720
    assert later_input.config.profile == "demo"
    # A demo clinic whose policy sets quiet hours has them (its default policy has none).
    assert (earlier_input.config.quiet_hours, later_input.config.quiet_hours) == (
        None,
        QuietHours(start_hour=22, end_hour=7),
    )


@pytest.fixture
async def clinic_with_calendar(pool: asyncpg.Pool, clinic: str) -> str:
    """A clinic of its own with a copy of the demo clinic's calendar (its resources under new ids)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "insert into resources (resource_id, clinic_site, kind, name)"
            " select $1 || '-' || resource_id, $1, kind, name from resources where clinic_site = $2",
            clinic,
            DEMO_SITE,
        )
        await conn.execute(
            "insert into resource_hours (resource_id, weekday, opens, closes)"
            " select $1 || '-' || h.resource_id, h.weekday, h.opens, h.closes from resource_hours h"
            " join resources r using (resource_id) where r.clinic_site = $2",
            clinic,
            DEMO_SITE,
        )
        await conn.execute(
            "insert into appointment_kinds (clinic_site, kind, duration, buffer_before, buffer_after,"
            " resource_kinds, lead_time, latest_start_local)"
            " select $1, kind, duration, buffer_before, buffer_after, resource_kinds, lead_time,"
            " latest_start_local from appointment_kinds where clinic_site = $2",
            clinic,
            DEMO_SITE,
        )
    return clinic


async def _diary(api: httpx.AsyncClient, pathway_id: str, run_seconds: float) -> None:
    """Near-complete relief held for `run_seconds`, then the usual pain back: a positive block."""
    for pain, then_wait in ((1, run_seconds), (0, 0.0), (7, 0.0)):
        report = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": pain})
        assert report.status_code == 200, report.text
        await asyncio.sleep(then_wait)


async def test_comparative_blocks_walk_two_blocks_to_a_concordance(
    api: httpx.AsyncClient, clinic_with_calendar: str
) -> None:
    put = await api.put(_path(clinic_with_calendar), json={"comparative_blocks": True})
    assert put.status_code == 200, put.text
    pathway_id = await _start(api, clinic_with_calendar)
    await poll_view(api, pathway_id, "mri review due", next_action_is("mri_review"))
    await record_steps_to_relief_check(api, pathway_id)

    await _diary(api, pathway_id, RUN_WAIT_SECONDS)
    view = await poll_view(
        api,
        pathway_id,
        "second block booked",
        lambda v: len(v["appointments"]) == 3 and next_action_is("block")(v),
    )
    first, second = (a for a in view["appointments"] if a["kind"] == "block")
    assert datetime.fromisoformat(second["starts_at"]).astimezone(PHOENIX).date() > (
        datetime.fromisoformat(first["starts_at"]).astimezone(PHOENIX).date()
    )
    block = {"levels": ["L4-L5"], "side": "bilateral", "baseline_pain": 8, "performed_by": "Dr. P"}
    wrong = await api.post(f"/v1/pathways/{pathway_id}/block", json={**block, "anesthetic": "lidocaine"})
    assert_problem(wrong, 422, "/problems/invalid-step")
    right = await api.post(f"/v1/pathways/{pathway_id}/block", json={**block, "anesthetic": "bupivacaine"})
    assert right.status_code == 200, right.text
    await poll_view(api, pathway_id, "second diary prompt", next_action_is("pain_report"))

    await _diary(api, pathway_id, RUN_WAIT_SECONDS + 2)  # the bupivacaine relief lasts longer
    at_candidacy = await poll_view(api, pathway_id, "candidacy", lambda v: v["stage"] == "candidacy")
    assert [b["block_number"] for b in at_candidacy["blocks"]] == [1, 2]
    assert [b["result"] for b in at_candidacy["blocks"]] == ["positive", "positive"]
    assert at_candidacy["relief_check"] == at_candidacy["blocks"][1]
    assert at_candidacy["concordance"] == "concordant"
