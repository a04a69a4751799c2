"""Workflow tests run on the time-skipping test server: hours of timers pass in milliseconds."""

import os
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from config.binaries import installed_binary
from config.temporal import register_search_attributes
from domain.config import CLINICAL, PathwayConfig
from domain.inputs import PathwayInput
from domain.referral import ClinicalReferral, History, MriOnFile, Symptoms
from tests.codec_keys import TEST_DATA_CONVERTER
from tests.workflows.clinic_worker import ClinicWorker
from tests.workflows.fakes import FakeClinic
from tests.workflows.history_recording import HISTORIES, record_histories
from tests.workflows.pathway_driver import PathwayDriver


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh test server per test: its clock and leftover workflows cannot leak into the next test."""
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=installed_binary("temporal-test-server"), data_converter=TEST_DATA_CONVERTER
    )
    await register_search_attributes(environment.client)
    yield environment
    await environment.shutdown()


@pytest.fixture
async def worker(env: WorkflowEnvironment) -> AsyncIterator[ClinicWorker]:
    """The worker on the fake clinic's activities, running for the whole test unless the test stops it."""
    running = ClinicWorker(env, FakeClinic())
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
def clinic(worker: ClinicWorker) -> FakeClinic:
    return worker.clinic


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
async def start(env: WorkflowEnvironment, clinic: FakeClinic, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Starts a pathway on the test server and returns a driver for it.

    With DVR_RECORD_HISTORIES=1 (`make record-histories`), each pathway's history and its relief checks'
    are written to tests/histories/ when the test ends, for the replay test."""
    drivers: list[PathwayDriver] = []

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
            webhook_events=True,
        )
        driver = await PathwayDriver.start(env, clinic, pathway)
        drivers.append(driver)
        return driver

    yield _start
    if os.environ.get("DVR_RECORD_HISTORIES") == "1":
        name = f"{request.module.__name__.rsplit('.', 1)[-1]}__{request.node.name}"
        await record_histories(env.client, [d.handle.id for d in drivers], HISTORIES, name)
