"""Request bodies are read exactly as sent: strict scalars, text without NUL, dates within bounds.

Each model is validated as FastAPI validates a body (`model_validate` on the parsed JSON), and its published
JSON Schema is checked to say the same as the model about blank names.
"""

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from domain.fields import NON_BLANK_WITHOUT_NUL
from domain.referral import Referral
from domain.results import (
    BlockRecord,
    CandidacyDecision,
    FollowUpAnswer,
    MriReview,
    PainReport,
    ProcedureRecord,
    Withdrawal,
)
from tests.codec_keys import TEST_DATA_CONVERTER
from tests.referrals import referral_body

BLOCK = {
    "performed_at": "2026-03-02T09:00:00-07:00",
    "anesthetic": "lidocaine",
    "levels": ["L4-L5"],
    "side": "left",
    "baseline_pain": 7,
    "performed_by": "Dr. Lee",
}
PROCEDURE = {"status": "completed", "performed_by": "Dr. Moreno"}


def refused(model: type[BaseModel], body: dict[str, Any]) -> list[tuple[str, ...]]:
    """Where `body` was refused, as FastAPI validates a request body (the parsed JSON, validated)."""
    with pytest.raises(ValidationError) as err:
        model.model_validate(json.loads(json.dumps(body)))
    return [tuple(str(part) for part in e["loc"]) for e in err.value.errors()]


@pytest.mark.parametrize("pain", [True, "5", 5.0, "5.0"])
def test_a_pain_score_is_a_whole_number_sent_as_one(pain: object) -> None:
    assert refused(PainReport, {"pain": pain}) == [("pain",)]
    assert refused(FollowUpAnswer, {"pain": pain}) == [("pain",)]
    assert refused(BlockRecord, {**BLOCK, "baseline_pain": pain}) == [("baseline_pain",)]


@pytest.mark.parametrize("flag", [1, 0, "true", "yes", "false"])
def test_a_flag_is_true_or_false(flag: object) -> None:
    assert refused(MriReview, {"facet_swelling": flag, "reviewed_by": "Dr. Lee"}) == [("facet_swelling",)]
    assert refused(CandidacyDecision, {"approved": flag, "decided_by": "Dr. Lee"}) == [("approved",)]
    body = referral_body()
    body["symptoms"]["axial_low_back_pain"] = flag
    body["patient"]["sms_consent"] = flag
    assert set(refused(Referral, body)) == {
        ("symptoms", "axial_low_back_pain"),
        ("patient", "sms_consent"),
    }


def test_well_typed_bodies_are_taken() -> None:
    assert PainReport.model_validate({"pain": 5}).pain == 5
    assert BlockRecord.model_validate(BLOCK).performed_at == datetime(2026, 3, 2, 16, tzinfo=UTC)
    assert Referral.model_validate(referral_body()).patient.given_name == "Ada"


@pytest.mark.parametrize("text", ["Dr.\x00Lee", "\x00", "Dr. Lee\x00"])
def test_nul_is_refused_in_every_text(text: str) -> None:
    assert refused(Withdrawal, {"reason": text}) == [("reason",)]
    assert refused(MriReview, {"facet_swelling": True, "reviewed_by": text}) == [("reviewed_by",)]
    body = referral_body()
    body["patient"]["given_name"] = text
    body["referring_provider"]["name"] = text
    body["patient"]["timezone"] = f"America/Phoenix{text}"
    assert set(refused(Referral, body)) == {
        ("patient", "given_name"),
        ("referring_provider", "name"),
        ("patient", "timezone"),
    }


@pytest.mark.parametrize("blank", [" ", "   ", "\t\n"])
def test_a_blank_name_is_refused_and_the_schema_says_so(blank: str) -> None:
    body = referral_body()
    body["patient"]["family_name"] = blank
    assert refused(Referral, body) == [("patient", "family_name")]
    patient_schema = Referral.model_json_schema()["$defs"]["Patient"]["properties"]["family_name"]
    assert patient_schema["pattern"] == NON_BLANK_WITHOUT_NUL
    assert re.search(patient_schema["pattern"], blank) is None
    assert re.search(patient_schema["pattern"], " Ruiz ") is not None


@pytest.mark.parametrize(
    ("model", "body", "where"),
    [
        (ProcedureRecord, {**PROCEDURE, "completed_at": "0001-01-01T00:00:00Z"}, "completed_at"),
        (ProcedureRecord, {**PROCEDURE, "completed_at": "9999-12-31T23:59:59Z"}, "completed_at"),
        (BlockRecord, {**BLOCK, "performed_at": "1999-12-31T23:59:59Z"}, "performed_at"),
        (PainReport, {"pain": 3, "recorded_at": "2101-01-01T00:00:00Z"}, "recorded_at"),
        (PainReport, {"pain": 3, "recorded_at": 1767225600}, "recorded_at"),
    ],
)
def test_clinical_instants_are_within_2000_to_2100_and_sent_as_text(
    model: type[BaseModel], body: dict[str, Any], where: str
) -> None:
    assert refused(model, body) == [(where,)]


@pytest.mark.parametrize(
    ("part", "field", "value"),
    [
        ("patient", "birth_date", "1899-12-31"),
        ("patient", "birth_date", "0001-01-01"),
        ("patient", "birth_date", 0),
        ("mri", "performed_on", "1999-12-31"),
        ("mri", "performed_on", 20250101),
    ],
)
def test_referral_dates_are_within_bounds_and_sent_as_text(part: str, field: str, value: object) -> None:
    body = referral_body()
    body[part][field] = value
    assert refused(Referral, body) == [(part, field)]


def test_bounded_instants_still_decode_from_history() -> None:
    # History holds JSON: the strict scalars and the bounded instants read it back as they were written.
    record = BlockRecord.model_validate(BLOCK)
    (payload,) = TEST_DATA_CONVERTER.payload_converter.to_payloads([record])
    (decoded,) = TEST_DATA_CONVERTER.payload_converter.from_payloads([payload], [BlockRecord])
    assert decoded == record
