"""The worker of workflow tests, on the fake clinic's activities; a test can stop it for an outage."""

import asyncio
from datetime import datetime

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workflows.fakes import FakeClinic
from tests.workflows.time_skipping import skip
from workflows.registry import WORKFLOWS, workflow_runner

TASK_QUEUE = "pathway-tests"


class ClinicWorker:
    def __init__(self, env: WorkflowEnvironment, clinic: FakeClinic) -> None:
        self.env, self.clinic = env, clinic
        self._worker: Worker | None = None
        self._running: asyncio.Task[None] | None = None

    async def start(self, *, max_cached_workflows: int = 1000) -> None:
        """With `max_cached_workflows=0`, every workflow task replays the history from its start."""
        self._worker = Worker(
            self.env.client,
            task_queue=TASK_QUEUE,
            workflows=WORKFLOWS,
            activities=self.clinic.activities(),
            workflow_runner=workflow_runner(),
            max_cached_workflows=max_cached_workflows,
        )
        self._running = asyncio.create_task(self._worker.run())

    async def stop(self) -> None:
        if self._worker is not None and self._running is not None:
            await self._worker.shutdown()
            await self._running
        self._worker = self._running = None

    async def outage(self, until: datetime) -> None:
        """The worker is down while the clock runs to `until` (timers fire, nothing runs), then a new
        worker starts, as after a crash and a restart."""
        await self.stop()
        now = await self.env.get_current_time()
        await skip(self.env, until - now)
        await self.start()
