"""Models that cross a process boundary: strict from clients, tolerant when read back from history.

The contract models are found by walking the `ContractModel` subclasses of the `domain` package, and the
workflow inputs by walking `domain.inputs`, so a model added there is covered without editing this file.
Payloads go through the project's real data converter, as they do between the API, workers and history.
"""

import importlib
import json
import pkgutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import domain
import domain.inputs
from domain.check_ins import CheckInStatus
from domain.config import CLINICAL, DEMO, PathwayConfig, ReliefPolicy
from domain.consents import Consents
from domain.contact import ContactChange
from domain.contract import ContractModel
from domain.inputs import OutcomesInput, OutcomesResult, PathwayInput, ReliefCheckInput, ReliefOutcome
from domain.policy import ClinicPolicy
from domain.quiet_hours import QuietHours
from domain.referral import (
    ClinicalReferral,
    History,
    MriOnFile,
    Patient,
    Referral,
    ReferringProvider,
    Symptoms,
)
from domain.results import (
    AttentionResolution,
    BlockRecord,
    CandidacyDecision,
    CheckInAnswers,
    ExamResult,
    FollowUpAnswer,
    MriReview,
    OutcomeAnswer,
    PainReport,
    ProcedureRecord,
    ScreeningReview,
    StaffCall,
    StaffRequest,
    Withdrawal,
)
from domain.stages import ReliefResult
from domain.view import OutcomeCheckInView, ReportedPain, StaffCallView
from tests.codec_keys import TEST_DATA_CONVERTER

UNKNOWN = "field_from_another_build"

for _module in pkgutil.iter_modules(domain.__path__):
    importlib.import_module(f"{domain.__name__}.{_module.name}")


def _subclasses(cls: type[ContractModel]) -> Iterator[type[ContractModel]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


CONTRACT_MODELS = sorted(
    {m for m in _subclasses(ContractModel) if m.__module__.startswith(f"{domain.__name__}.")},
    key=lambda m: m.__name__,
)
INPUT_MODELS = sorted(
    {
        v
        for v in vars(domain.inputs).values()
        if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == domain.inputs.__name__
    },
    key=lambda m: m.__name__,
)

AT = datetime(2025, 11, 25, 15, 30, tzinfo=UTC)
PATIENT = Patient(
    mrn="MRN-0001",
    given_name="Ana",
    family_name="Ruiz",
    birth_date=date(1970, 5, 17),
    phone="+16025550100",
    email="ana@example.com",
    consents=Consents(appointments=True, diary=False, follow_up=True, email=False),
)
CLINICAL_REFERRAL = ClinicalReferral(
    symptoms=Symptoms(axial_low_back_pain=True, hip_pain=True),
    history=History(prior_rfa_with_recurrence=True),
    mri=MriOnFile(performed_on=date(2025, 6, 1), study_ref="STUDY-1"),
)

# One valid instance of each model whose constraints (patterns, stripped non-empty text, aware datetimes,
# default factories) `st.from_type` cannot satisfy; optional fields set, so they cross the converter too.
# A new model that `st.from_type` cannot build fails the tests below with a ValidationError: add it here.
EXAMPLES: dict[type[BaseModel], BaseModel] = {
    Patient: PATIENT,
    ReferringProvider: ReferringProvider(name="Dr. Kim", npi="1234567890"),
    MriOnFile: MriOnFile(performed_on=date(2025, 6, 1), study_ref="STUDY-1"),
    ClinicalReferral: CLINICAL_REFERRAL,
    Referral: Referral(
        referral_id="R-1",
        source_system="ehr",
        clinic_site="phoenix-main",
        patient=PATIENT,
        referring_provider=ReferringProvider(name="Dr. Kim"),
        symptoms=CLINICAL_REFERRAL.symptoms,
        history=CLINICAL_REFERRAL.history,
        mri=CLINICAL_REFERRAL.mri,
    ),
    ScreeningReview: ScreeningReview(proceed=True, reason="meniscal tear explains it", reviewed_by="Dr. Lee"),
    MriReview: MriReview(facet_swelling=True, levels=["L4-L5"], side="left", reviewed_by="Dr. Lee"),
    ExamResult: ExamResult(palpation_concordant=True, levels=["L4-L5", "L5-S1"], examined_by="Dr. Lee"),
    BlockRecord: BlockRecord(
        performed_at=AT,
        anesthetic="lidocaine",
        levels=["L4-L5"],
        side="bilateral",
        baseline_pain=7,
        performed_by="Dr. Lee",
    ),
    PainReport: PainReport(pain=2, recorded_at=AT),
    CandidacyDecision: CandidacyDecision(
        approved=True, anesthesia="twilight", decided_by="Dr. Moreno", reason="all four criteria"
    ),
    ProcedureRecord: ProcedureRecord(
        status="completed", completed_at=AT, levels_treated=["L4-L5"], performed_by="Dr. Moreno"
    ),
    FollowUpAnswer: FollowUpAnswer(pain=1, returned_to_work=True, red_flags=["fever"]),
    Withdrawal: Withdrawal(reason="moved away"),
    CheckInAnswers: CheckInAnswers(pain=2, returned_to_work=True, red_flags=["fever"]),
    StaffCall: StaffCall(
        reached=True,
        answers=CheckInAnswers(pain=2, work_status="working_full", pgic=2),
        note="reached on the second try",
        called_by="Nurse Kim",
    ),
    OutcomeAnswer: OutcomeAnswer(
        check_in="3_months",
        pain=2,
        work_status="off_work",
        pgic=3,
        red_flags=["fever"],
        recorded_by="Nurse Kim",
    ),
    StaffRequest: StaffRequest(requested_by="Front desk"),
    AttentionResolution: AttentionResolution(
        reason="red_flags", note="called the patient; seen in clinic", resolved_by="Nurse Kim"
    ),
    ContactChange: ContactChange(
        phone="+16025550100",
        email="ana@example.com",
        preferred_channel="email",
        preferred_language="es",
        sms_consent=False,
        consents=Consents(appointments=True, diary=True, follow_up=True, email=False),
    ),
    Consents: Consents(appointments=False, diary=True, follow_up=False, email=True),
    PathwayInput: PathwayInput(
        patient_ref="patient-1",
        clinic_site="phoenix-main",
        clinic_timezone="America/Phoenix",
        patient_timezone="America/New_York",
        referral=CLINICAL_REFERRAL,
        config=DEMO,
        policy_version=3,
    ),
    QuietHours: QuietHours(start_hour=22, end_hour=7),
    ClinicPolicy: ClinicPolicy(
        relief_threshold=0.5, comparative_blocks=True, quiet_hours=QuietHours(start_hour=22, end_hour=7)
    ),
    ReliefCheckInput: ReliefCheckInput(
        pathway_id="pathway-1",
        patient_ref="patient-1",
        clinic_timezone="America/Phoenix",
        block_number=1,
        performed_at=AT,
        baseline_pain=7,
        anesthetic="bupivacaine",
        policy=CLINICAL.relief,
    ),
    OutcomesInput: OutcomesInput(
        pathway_id="pathway-1",
        patient_ref="patient-1",
        patient_timezone="America/Phoenix",
        schedule=[("2_weeks", AT), ("6_weeks", AT + timedelta(days=28))],
        times=CLINICAL.outcome_check_in,
    ),
    OutcomesResult: OutcomesResult(
        check_ins=[
            OutcomeCheckInView(
                check_in="2_weeks",
                due_at=AT,
                status=CheckInStatus.ANSWERED,
                answered_at=AT,
                pain=2,
                work_status="working_full",
                pgic=2,
                red_flags=["fever"],
                recorded_by="Nurse Kim",
                staff_calls=[StaffCallView(at=AT, reached=True, called_by="Nurse Kim", note="reached")],
            )
        ]
    ),
    ReliefOutcome: ReliefOutcome(
        result=ReliefResult.POSITIVE,
        peak_relief_pct=86,
        reason="relief at threshold, then pain returned",
        reports=[ReportedPain(at=AT, pain=1)],
    ),
}


CONFIGS: dict[type[BaseModel], st.SearchStrategy[BaseModel]] = {
    PathwayConfig: st.sampled_from([CLINICAL, DEMO]),
    ReliefPolicy: st.sampled_from([CLINICAL.relief, DEMO.relief]),
}


def instances(model: type[BaseModel]) -> st.SearchStrategy[BaseModel]:
    if model in CONFIGS:
        return CONFIGS[model]
    if model in EXAMPLES:
        return st.just(EXAMPLES[model])
    return st.from_type(model)


def encode(value: BaseModel) -> dict[str, Any]:
    """The JSON the data converter writes for `value`."""
    (payload,) = TEST_DATA_CONVERTER.payload_converter.to_payloads([value])
    data = json.loads(payload.data)
    assert isinstance(data, dict)
    return data


def decode(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """`data` read back by the data converter, as a workflow reads its history."""
    (payload,) = TEST_DATA_CONVERTER.payload_converter.to_payloads([data])
    (value,) = TEST_DATA_CONVERTER.payload_converter.from_payloads([payload], [model])
    return value


def with_unknown_fields(value: BaseModel, data: dict[str, Any]) -> dict[str, Any]:
    """`data` (the JSON of `value`) with an unknown field on the model and on every model nested in it, as a
    build with one more field in each would have written it."""
    changed = {**data, UNKNOWN: {"any": ["value", 1]}}
    for name in type(value).model_fields:
        field, encoded = getattr(value, name), data.get(name)
        if isinstance(field, BaseModel) and isinstance(encoded, dict):
            changed[name] = with_unknown_fields(field, encoded)
        elif isinstance(field, list | tuple) and isinstance(encoded, list):
            changed[name] = [
                with_unknown_fields(f, e) if isinstance(f, BaseModel) and isinstance(e, dict) else e
                for f, e in zip(field, encoded, strict=True)
            ]
    return changed


def test_the_models_are_found() -> None:
    assert {Referral, ClinicalReferral, MriReview, PainReport, Withdrawal} <= set(CONTRACT_MODELS)
    assert {PathwayInput, ReliefCheckInput, ReliefOutcome} <= set(INPUT_MODELS)


def test_every_example_is_of_its_model() -> None:
    assert all(type(example) is model for model, example in EXAMPLES.items())


@pytest.mark.parametrize("model", CONTRACT_MODELS, ids=lambda m: m.__name__)
@given(data=st.data())
def test_a_client_cannot_send_an_unknown_field(model: type[ContractModel], data: st.DataObject) -> None:
    # Validated normally, as the API validates a request body: a typo or a field this build does not know
    # is refused (422), not silently dropped.
    value = data.draw(instances(model), label=model.__name__)
    with pytest.raises(ValidationError) as refused:
        model.model_validate_json(json.dumps({**encode(value), UNKNOWN: 1}))
    assert [error["type"] for error in refused.value.errors()] == ["extra_forbidden"]


@pytest.mark.parametrize("model", CONTRACT_MODELS, ids=lambda m: m.__name__)
@given(data=st.data())
def test_history_with_an_unknown_field_still_decodes(model: type[ContractModel], data: st.DataObject) -> None:
    # Read back through the data converter, as a workflow replays its history: a payload written by a build
    # with one more field, at any depth, decodes to the same value with the unknown fields dropped.
    value = data.draw(instances(model), label=model.__name__)
    encoded = encode(value)
    assert decode(model, encoded) == value
    assert decode(model, with_unknown_fields(value, encoded)) == value


@pytest.mark.parametrize(
    "model", [PathwayConfig, ReliefPolicy, *INPUT_MODELS], ids=lambda m: f"{m.__module__}.{m.__name__}"
)
@given(data=st.data())
def test_workflow_inputs_with_an_unknown_field_still_decode(
    model: type[BaseModel], data: st.DataObject
) -> None:
    # A running pathway keeps the input and configuration it started with, written by an older build.
    value = data.draw(instances(model), label=model.__name__)
    encoded = encode(value)
    assert decode(model, encoded) == value
    assert decode(model, with_unknown_fields(value, encoded)) == value
