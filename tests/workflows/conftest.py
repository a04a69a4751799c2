"""Workflow tests run on the time-skipping test server: hours of timers pass in milliseconds."""

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config.binaries import installed_binary
from config.temporal import DATA_CONVERTER, register_search_attributes
from domain.config import CLINICAL, PathwayConfig
from domain.inputs import PathwayInput
from domain.referral import ClinicalReferral, History, MriOnFile, Symptoms
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver
from workflows.pathway import PatientPathwayWorkflow
from workflows.relief_check import ReliefCheckWorkflow


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh test server per test: its clock and leftover workflows cannot leak into the next test."""
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=installed_binary("temporal-test-server"), data_converter=DATA_CONVERTER
    )
    await register_search_attributes(environment.client)
    yield environment
    await environment.shutdown()


@pytest.fixture
async def clinic(env: WorkflowEnvironment) -> AsyncIterator[FakeClinic]:
    fake = FakeClinic()
    async with Worker(
        env.client,
        task_queue="pathway-tests",
        workflows=[PatientPathwayWorkflow, ReliefCheckWorkflow],
        activities=fake.activities(),
    ):
        yield fake


def clinical_referral(*, mri_age_days: int | None = 30, **symptoms: bool) -> ClinicalReferral:
    return ClinicalReferral(
        symptoms=Symptoms(
            **{"axial_low_back_pain": True, "buttock_radiation": True, "pain_below_knee": False, **symptoms}
        ),
        history=History(prior_rfa_with_recurrence=True),
        mri=None
        if mri_age_days is None
        else MriOnFile(performed_on=date.today() - timedelta(days=mri_age_days)),
    )


@pytest.fixture
def start(env: WorkflowEnvironment, clinic: FakeClinic):  # type: ignore[no-untyped-def]
    """Starts a pathway on the test server and returns a driver for it."""

    async def _start(
        referral: ClinicalReferral | None = None, config: PathwayConfig = CLINICAL
    ) -> PathwayDriver:
        pathway = PathwayInput(
            patient_ref=str(uuid.uuid4()),
            clinic_site="phoenix-main",
            clinic_timezone="America/Phoenix",
            patient_timezone="America/Phoenix",
            referral=referral or clinical_referral(),
            config=config,
        )
        return await PathwayDriver.start(env, clinic, pathway)

    return _start
