"""Binds the activity's identity to every log line written while it runs.

Our activities log through structlog (activities/notifications.py, ...); this worker interceptor binds the
workflow id, run id, workflow type, activity type, id and attempt to structlog's context variables for the
activity's run, so each of those lines names the pathway and the step it belongs to. Each activity runs in
a task of its own, so what is bound here never reaches another activity's lines.
"""

from typing import Any

import structlog
from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor


class ActivityLogContext(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BindingActivityInbound(next)


class _BindingActivityInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        with structlog.contextvars.bound_contextvars(
            workflow_id=info.workflow_id,
            run_id=info.workflow_run_id,
            workflow_type=info.workflow_type,
            activity_type=info.activity_type,
            activity_id=info.activity_id,
            attempt=info.attempt,
        ):
            return await super().execute_activity(input)
