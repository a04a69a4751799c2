"""`POST /v1/patients/search`: a patient's pathways by the clinic's MRN, for a key with `patients:read`,
audited, limited to the key's sites, and with the MRN in no log line."""

import asyncio
import io
import json
import uuid

import asyncpg
import httpx
from temporalio.client import Client

from db.seed import DEMO_SITE
from tests.integration import test_logs_carry_no_phi as logs
from tests.integration.conftest import READ_ONLY_KEY
from tests.integration.limited_keys import limited_api
from tests.integration.polling import next_action_is, poll_view
from tests.integration.problems import assert_problem
from tests.referrals import referral_body

json_logs = logs.json_logs  # the fixture: every log line of the process, as production writes them


async def _refer(api: httpx.AsyncClient, mrn: str, label: str) -> str:
    body = referral_body(f"REF-SEARCH-{label}-{uuid.uuid4().hex[:8]}")
    body["patient"]["mrn"] = mrn
    created = await api.post("/v1/referrals", json=body)
    assert created.status_code == 201, created.text
    pathway_id: str = created.json()["pathway_id"]
    return pathway_id


async def test_a_patients_pathways_by_mrn_audited_and_not_logged(
    json_logs: io.StringIO, api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    mrn = f"MRN-SEARCH-{uuid.uuid4().hex[:10]}"
    first = await _refer(api, mrn, "first")
    second = await _refer(api, mrn, "second")
    view = await poll_view(api, first, "mri review due", next_action_is("mri_review"))
    await poll_view(api, second, "mri review due", next_action_is("mri_review"))
    withdrawn = await api.post(f"/v1/pathways/{second}/withdraw", json={"reason": "moved away"})
    assert withdrawn.status_code == 200, withdrawn.text
    await poll_view(api, second, "closed", lambda v: v["stage"] == "closed")
    other = await _refer(api, f"MRN-OTHER-{uuid.uuid4().hex[:10]}", "other")

    found: dict[str, dict[str, object]] = {}
    for _ in range(300):  # visibility is eventually consistent
        response = await api.post("/v1/patients/search", json={"clinic_site": DEMO_SITE, "mrn": mrn})
        assert response.status_code == 200, response.text
        found = {p["pathway_id"]: p for p in response.json()["pathways"]}
        if found.get(second, {}).get("stage") == "closed" and found[first]["stage"] == "mri":
            break
        await asyncio.sleep(0.1)
    assert set(found) == {first, second}
    assert other not in found
    assert found[first] == {
        "pathway_id": first,
        "patient_ref": view["patient_ref"],
        "stage": "mri",
        "status": "active",
        "outcome": None,
    }
    assert (found[second]["stage"], found[second]["status"], found[second]["outcome"]) == (
        "closed",
        "closed",
        "withdrawn",
    )
    assert mrn not in response.text

    rows = await pool.fetch(
        "select actor, patient_ref, detail::text as detail from audit_log"
        " where action = 'patient.search' and patient_ref = $1",
        view["patient_ref"],
    )
    assert rows, "the search wrote no audit row"
    assert {row["actor"] for row in rows} == {"integration"}
    every_row = [r["row"] for r in await pool.fetch("select row_to_json(a)::text as row from audit_log a")]
    assert not [row for row in every_row if mrn in row], "the MRN is in an audit row"

    unknown = f"MRN-UNKNOWN-{uuid.uuid4().hex[:10]}"
    nothing = await api.post("/v1/patients/search", json={"clinic_site": DEMO_SITE, "mrn": unknown})
    assert nothing.status_code == 200, nothing.text
    assert nothing.json() == {"pathways": []}
    # An MRN is per clinic: the same MRN at another clinic is another (here: no) patient.
    elsewhere = await api.post("/v1/patients/search", json={"clinic_site": "tucson-east", "mrn": mrn})
    assert elsewhere.json() == {"pathways": []}

    invalid = await api.post("/v1/patients/search", json={"clinic_site": DEMO_SITE, "mrn": f"{mrn} ' x"})
    assert_problem(invalid, 422, "/problems/invalid-request")
    assert mrn not in invalid.text

    lines = logs.lines_of(json_logs)
    assert lines, "no log line was captured"
    for text in (mrn, unknown):
        assert not [line for line in lines if text in json.dumps(line)], "the MRN is in a log line"


async def test_a_key_without_patients_read_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/patients/search",
        json={"clinic_site": DEMO_SITE, "mrn": "MRN-ANY"},
        headers={"Authorization": f"Bearer {READ_ONLY_KEY}"},
    )
    assert_problem(response, 403, "/problems/forbidden")


async def test_a_site_limited_key_finds_only_its_sites_patients(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client
) -> None:
    async with limited_api(pool, temporal, "site-search") as (site, limited):
        mrn = f"MRN-LIMIT-{uuid.uuid4().hex[:10]}"
        theirs = await _refer(api, mrn, "theirs")  # the same MRN at the demo clinic
        body = referral_body(f"REF-SEARCH-ours-{uuid.uuid4().hex[:8]}") | {"clinic_site": site}
        body["patient"]["mrn"] = mrn
        created = await limited.post("/v1/referrals", json=body)
        assert created.status_code == 201, created.text
        ours = created.json()["pathway_id"]

        own = await limited.post("/v1/patients/search", json={"clinic_site": site, "mrn": mrn})
        assert own.status_code == 200, own.text
        assert [p["pathway_id"] for p in own.json()["pathways"]] == [ours]
        other = await limited.post("/v1/patients/search", json={"clinic_site": DEMO_SITE, "mrn": mrn})
        assert other.status_code == 200, other.text
        assert other.json() == {"pathways": []}
        # The unlimited key sees the demo clinic's patient under the same MRN.
        demo = await api.post("/v1/patients/search", json={"clinic_site": DEMO_SITE, "mrn": mrn})
        assert [p["pathway_id"] for p in demo.json()["pathways"]] == [theirs]
