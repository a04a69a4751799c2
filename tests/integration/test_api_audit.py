"""The API leaves an audit row for every PHI read and write it serves, naming the client, never the PHI."""

import json
import uuid

import asyncpg
import httpx

from tests.integration.polling import next_action_is, poll_view
from tests.referrals import referral_body


async def _rows(pool: asyncpg.Pool, pathway_id: str, action: str) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "select actor, action, patient_ref, pathway_id, detail from audit_log"
            " where pathway_id = $1 and action = $2 order by id",
            pathway_id,
            action,
        )
    )


def _who(row: asyncpg.Record) -> tuple[str, str, str, str]:
    return row["actor"], row["action"], str(row["patient_ref"]), row["pathway_id"]


async def test_referral_read_and_step_are_audited_without_phi(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    referral_id = f"REF-AUDIT-{uuid.uuid4().hex[:8]}"
    body = referral_body(referral_id)
    body["patient"] |= {
        "given_name": "Audrina",
        "family_name": f"Trailsworth{uuid.uuid4().hex[:6]}",
        "phone": "+16025550177",
        "email": f"audrina.{uuid.uuid4().hex[:6]}@example.org",
        "birth_date": "1957-11-23",
    }
    patient = body["patient"]

    created = await api.post("/v1/referrals", json=body)
    assert created.status_code == 201, created.text
    pathway_id = created.json()["pathway_id"]
    patient_ref = str(await pool.fetchval("select patient_ref from patients where mrn = $1", patient["mrn"]))
    written = await _rows(pool, pathway_id, "patient.write")
    assert [_who(r) for r in written] == [("integration", "patient.write", patient_ref, pathway_id)]

    await poll_view(api, pathway_id, "mri review due", next_action_is("mri_review"))
    reads_before = len(await _rows(pool, pathway_id, "pathway.read"))
    read = await api.get(f"/v1/pathways/{pathway_id}")
    assert read.status_code == 200, read.text
    reads = await _rows(pool, pathway_id, "pathway.read")
    assert len(reads) == reads_before + 1
    assert _who(reads[-1]) == ("integration", "pathway.read", patient_ref, pathway_id)

    step = await api.post(
        f"/v1/pathways/{pathway_id}/mri-review",
        json={"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. Radiologist"},
    )
    assert step.status_code == 200, step.text
    steps = await _rows(pool, pathway_id, "mri_review.write")
    assert [_who(r) for r in steps] == [("integration", "mri_review.write", patient_ref, pathway_id)]
    assert steps[0]["detail"] == {"reviewed_by": "Dr. Radiologist"}  # who took the step

    phi = [patient[k] for k in ("mrn", "given_name", "family_name", "birth_date", "phone", "email")]
    ours = await pool.fetch(
        "select row_to_json(a)::text as row from audit_log a where pathway_id = $1", pathway_id
    )
    assert len(ours) >= 3
    every_detail = [json.dumps(r["detail"]) for r in await pool.fetch("select detail from audit_log")]
    for text in [r["row"] for r in ours] + every_detail:
        for value in phi:
            assert value not in text, f"PHI in the audit trail: {text}"
