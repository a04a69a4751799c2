"""A path id or a page token with a trailing newline, or a page token whose instant no calendar can name, is
refused as any malformed one is: a problem+json, never a 500 from the database or the clock."""

import httpx

from tests.integration.problems import assert_problem

NIL_REF = "00000000-0000-0000-0000-000000000000"


async def test_a_patient_ref_with_a_trailing_newline_is_404(api: httpx.AsyncClient) -> None:
    # `$` matches before a final newline: the ref passed the pattern and reached asyncpg's uuid codec.
    answer = await api.patch(f"/v1/patients/{NIL_REF}%0A", json={"phone": "+16025550111"})
    assert_problem(answer, 404, "/problems/patient-not-found")


async def test_ids_with_a_trailing_newline_are_404(api: httpx.AsyncClient) -> None:
    answer = await api.get(f"/v1/pathways/pathway-{NIL_REF}%0A")
    assert_problem(answer, 404, "/problems/pathway-not-found")
    answer = await api.get("/v1/clinics/phoenix-main%0A/policy")
    assert_problem(answer, 404, "/problems/clinic-not-found")


async def test_an_overdue_page_token_whose_instant_is_out_of_range_is_422(api: httpx.AsyncClient) -> None:
    for token in ("999999999999.x", "253402300800.x"):  # years 33658 and 10000
        answer = await api.get("/v1/pathways", params={"overdue": "true", "page_token": token})
        assert_problem(answer, 422, "/problems/invalid-page-token")
