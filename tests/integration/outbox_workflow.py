"""Small workflows, so the real notification activities run under Temporal's retry policy."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from domain.notifications import NotificationReceipt, NotificationRequest, UndeliveredMessage
    from domain.stages import AttentionReason

from workflows.messenger import Messenger


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


@workflow.defn
class SendUntilDelivered:
    """Retries quickly and without a limit on attempts, as a message waiting out another's claim does."""

    @workflow.run
    async def run(self, request: NotificationRequest) -> NotificationReceipt:
        return await workflow.execute_activity_method(
            NotificationActivities.send_notification,
            request,
            start_to_close_timeout=timedelta(seconds=10),
            schedule_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=10),
                backoff_coefficient=1.0,
                maximum_interval=timedelta(milliseconds=50),
            ),
        )


@workflow.defn
class SendOrGiveUp:
    """Sends with a few attempts; when all fail, records the message as undelivered (returns None)."""

    @workflow.run
    async def run(self, request: NotificationRequest) -> NotificationReceipt | None:
        try:
            return await workflow.execute_activity_method(
                NotificationActivities.send_notification,
                request,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10), maximum_attempts=3),
            )
        except ActivityError:
            await workflow.execute_activity_method(
                NotificationActivities.record_undelivered,
                UndeliveredMessage(key=request.key, reason="every attempt failed"),
                start_to_close_timeout=timedelta(seconds=10),
            )
            return None


@workflow.defn
class MessagePatient:
    """Sends one message to the patient as a pathway does, through its messenger (retries, then trouble);
    returns the attention reasons the messenger raised. `request.key` is the key within the pathway."""

    @workflow.run
    async def run(self, request: NotificationRequest) -> list[AttentionReason]:
        raised: list[AttentionReason] = []
        assert request.patient_ref is not None
        messenger = Messenger(request.pathway_id, request.patient_ref, raised.append)
        messenger.to_patient(request.template, request.key, request.params)
        await messenger.drain()
        return raised
