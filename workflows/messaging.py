"""Sending a message from workflow code: one deterministic outbox key per message."""

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from domain.notifications import NotificationReceipt, NotificationRequest, Recipient

from workflows.activity_options import MESSAGE


async def send_message(
    *,
    pathway_id: str,
    key: str,
    template: str,
    patient_ref: str | None,
    params: dict[str, str] | None = None,
) -> NotificationReceipt | None:
    """Sends to the patient (`patient_ref` set) or to staff (None); None when every retry failed."""
    request = NotificationRequest(
        key=f"{pathway_id}:{key}",
        pathway_id=pathway_id,
        recipient=Recipient.PATIENT if patient_ref else Recipient.STAFF,
        patient_ref=patient_ref,
        template=template,
        params=params or {},
    )
    try:
        return await workflow.execute_activity_method(
            NotificationActivities.send_notification,
            request,
            start_to_close_timeout=MESSAGE.start_to_close,
            schedule_to_close_timeout=MESSAGE.schedule_to_close,
            retry_policy=MESSAGE.retry,
            summary=f"send {template} to {request.recipient}",
        )
    except ActivityError:
        workflow.logger.warning("message %s could not be sent", key)
        return None
