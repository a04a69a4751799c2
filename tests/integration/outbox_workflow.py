"""A one-activity workflow, so the real notification activity runs under Temporal's retry policy."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from domain.notifications import NotificationReceipt, NotificationRequest


@workflow.defn
class SendOnce:
    @workflow.run
    async def run(self, request: NotificationRequest) -> NotificationReceipt:
        return await workflow.execute_activity_method(
            NotificationActivities.send_notification,
            request,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10), maximum_attempts=5),
        )
