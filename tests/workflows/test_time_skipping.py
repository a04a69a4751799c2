"""The workflow tests' clock skip: it moves the clock on, and a skip that cannot finish says why."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.appointments import AppointmentKind
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver
from tests.workflows.time_skipping import skip

Start = Callable[..., Awaitable[PathwayDriver]]


async def test_a_skip_moves_the_clock_on_by_what_it_was_asked(env: WorkflowEnvironment) -> None:
    before = await env.get_current_time()
    await skip(env, timedelta(days=3))
    assert await env.get_current_time() - before >= timedelta(days=3)


async def test_a_skip_held_up_by_an_activity_says_how_far_the_clock_got(
    env: WorkflowEnvironment, start: Start, clinic: FakeClinic
) -> None:
    clinic.hold("booking:exam")
    pathway = await start()
    await pathway.mri_review()
    await pathway.wait_for("the exam's booking asked", lambda _: clinic.waiting("booking:exam") == 1)

    with pytest.raises(AssertionError, match=r"the clock moved 0:00:0.* of 1 day, 0:00:00 in 1 s"):
        await skip(env, timedelta(days=1), deadline=timedelta(seconds=1))
    clinic.release("booking:exam")
    assert (await pathway.booked(AppointmentKind.EXAM)).kind == AppointmentKind.EXAM
