"""The worker's Temporal SDK metrics: served at `DVR_WORKER_METRICS_PORT` when it is set, absent otherwise.

A client on the worker's runtime (config/temporal_runtime.py) runs a workflow and an activity against the
test dev server; its metrics endpoint then shows the task latencies, schedule-to-start and sticky cache.
"""

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from config.metrics import worker_metrics_address
from config.settings import Settings
from config.temporal import connect
from config.temporal_runtime import temporal_runtime
from tests.codec_keys import with_test_keys
from tests.integration.processes import free_port


@activity.defn
async def echo(text: str) -> str:
    return text


@workflow.defn(sandboxed=False)
class EchoWorkflow:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(echo, text, start_to_close_timeout=timedelta(seconds=10))


def test_no_port_no_worker_metrics() -> None:
    assert worker_metrics_address(Settings()) is None
    assert worker_metrics_address(Settings(worker_metrics_port=9465)) == "127.0.0.1:9465"
    assert (
        worker_metrics_address(Settings(metrics_host="0.0.0.0", worker_metrics_port=9465)) == "0.0.0.0:9465"
    )


async def test_the_worker_serves_the_sdk_metrics_when_configured(temporal: Client) -> None:
    settings = Settings(worker_metrics_port=free_port())
    address = worker_metrics_address(settings)
    assert address is not None
    client = await connect(
        with_test_keys(temporal.service_client.config.target_host, temporal.namespace),
        runtime=temporal_runtime(address),
    )
    task_queue = f"metrics-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[EchoWorkflow], activities=[echo]):
        answer = await client.execute_workflow(
            EchoWorkflow.run, "ping", id=f"metrics-{uuid.uuid4()}", task_queue=task_queue
        )
        assert answer == "ping"
        wanted = (
            "temporal_workflow_task_schedule_to_start_latency_bucket",
            "temporal_workflow_task_execution_latency_bucket",
            "temporal_activity_schedule_to_start_latency_bucket",
            "temporal_activity_execution_latency_bucket",
            "temporal_sticky_cache_size",
            "temporal_worker_task_slots_available",
        )
        served = ""
        deadline = asyncio.get_running_loop().time() + 20
        async with httpx.AsyncClient() as http:
            while not all(f"\n{name}{{" in served for name in wanted):
                if asyncio.get_running_loop().time() > deadline:
                    missing = [name for name in wanted if f"\n{name}{{" not in served]
                    pytest.fail(f"the worker's endpoint never served {missing}:\n{served[:3000]}")
                served = (await http.get(f"http://{address}/metrics", timeout=2)).text
                await asyncio.sleep(0.2)
    assert f'task_queue="{task_queue}"' in served
