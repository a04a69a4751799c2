"""Messages from workflow code: one deterministic outbox key per message, sent in the background.

A provider outage must not hold a pathway up, so sends run beside the stage sequence. Each send is retried
within bounds (workflows/activity_options.py); one that still fails is marked failed in the outbox and
reported through `on_trouble`, as is a patient with no channel they agreed to. A message the patient
declined (its receipt DECLINED: domain/consents.py) is not trouble: they chose it, and the stage that waits
for an answer has its own alert when none comes (the relief check asks staff to call about a silent diary).

Quiet hours: a routine message to the patient (`domain.quiet_hours.HELD_IN_QUIET_HOURS`) that falls in the
patient's quiet hours waits on a timer until they end, then is sent; urgent and time-bound ones go at once
(that module says which and why). `drain` waits for held messages too, so a closing letter held overnight
keeps the workflow open until it is sent: bounded by the quiet hours, under a day.

A bounce: an SMS the gateway took but later reported it could not deliver, for good, is sent again
(`resend`) under a key of its own. By then the number is refused (api/routes/sms_status.py), so the activity
chooses the patient's other channel, or finds none and suppresses it: patient unreachable, as for a number
refused while sending.
"""

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from domain.notifications import (
        BouncedMessage,
        NotificationReceipt,
        NotificationRequest,
        ReceiptStatus,
        Recipient,
        UndeliveredMessage,
    )
    from domain.quiet_hours import HELD_IN_QUIET_HOURS, QuietHours, next_allowed
    from domain.stages import AttentionReason

from workflows.activity_options import MESSAGE, OUTBOX_UPDATE


class Messenger:
    def __init__(
        self,
        pathway_id: str,
        patient_ref: str,
        on_trouble: Callable[[AttentionReason], None],
        *,
        quiet_hours: QuietHours | None = None,
        patient_timezone: str = "UTC",
    ) -> None:
        """`quiet_hours` (None: none) are read in `patient_timezone`."""
        self._pathway_id = pathway_id
        self._patient_ref = patient_ref
        self._on_trouble = on_trouble
        self._quiet_hours = quiet_hours
        self._patient_timezone = patient_timezone
        self._sending: list[asyncio.Task[None]] = []
        self._held: dict[str, asyncio.Task[Any]] = {}  # key -> its send, while it waits out quiet hours
        self._dropped: set[str] = set()
        self._resent: set[str] = set()  # outbox keys of bounced messages already sent again

    def to_patient(self, template: str, key: str, params: dict[str, str] | None = None) -> None:
        self._start(Recipient.PATIENT, template, key, params)

    def to_staff(self, template: str, key: str, params: dict[str, str] | None = None) -> None:
        self._start(Recipient.STAFF, template, key, params)

    def to_staff_urgent(self, template: str, key: str, params: dict[str, str] | None = None) -> None:
        """To the care team's urgent channel (the on-call phone, say): for what a person must act on now."""
        self._start(Recipient.STAFF_URGENT, template, key, params)

    def resend(self, bounced: BouncedMessage) -> None:
        """Sends a bounced message to the patient again, once however often its bounce is reported (the
        gateway may report it more than once)."""
        if bounced.key in self._resent:
            return
        self._resent.add(bounced.key)
        key = bounced.key.removeprefix(f"{self._pathway_id}:")
        self._start(Recipient.PATIENT, bounced.template, f"{key}:resent", bounced.params)

    def drop_held(self, mentioning: str) -> None:
        """Drops the messages still waiting out quiet hours whose key mentions `mentioning` (an appointment
        id, say): what they said is no longer so (the appointment was cancelled, or has happened)."""
        for key, task in list(self._held.items()):
            if mentioning in key:
                self._dropped.add(key)
                task.cancel()

    @property
    def idle(self) -> bool:
        return all(task.done() for task in self._sending)

    async def drain(self) -> None:
        """Waits for every message started so far, and any a failure started meanwhile."""
        while not self.idle:
            await asyncio.gather(*self._sending, return_exceptions=True)

    def _start(self, recipient: Recipient, template: str, key: str, params: dict[str, str] | None) -> None:
        request = NotificationRequest(
            key=f"{self._pathway_id}:{key}",
            pathway_id=self._pathway_id,
            recipient=recipient,
            patient_ref=self._patient_ref if recipient == Recipient.PATIENT else None,
            template=template,
            params=params or {},
        )
        self._sending.append(asyncio.create_task(self._send(request)))

    async def _send(self, request: NotificationRequest) -> None:
        try:
            await self._wait_out_quiet_hours(request)
        except asyncio.CancelledError:
            if request.key in self._dropped:
                return  # dropped while held (`drop_held`): nothing was sent, nothing to report
            raise  # the workflow is being cancelled
        try:
            receipt: NotificationReceipt = await workflow.execute_activity_method(
                NotificationActivities.send_notification,
                request,
                start_to_close_timeout=MESSAGE.start_to_close,
                schedule_to_close_timeout=MESSAGE.schedule_to_close,
                retry_policy=MESSAGE.retry,
                summary=f"send {request.template} to {request.recipient.value}",
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise  # the workflow is ending without it: not a delivery failure
            workflow.logger.warning("message %s could not be sent", request.key)
            await self._record_undelivered(request)
            if request.recipient == Recipient.PATIENT:  # a staff message that fails must not page staff again
                self._on_trouble(AttentionReason.MESSAGE_NOT_DELIVERED)
            elif request.recipient == Recipient.STAFF_URGENT:  # an urgent page is never lost: the mailbox too
                fallback = request.key.removeprefix(f"{self._pathway_id}:") + ":mailbox"
                self._start(Recipient.STAFF, request.template, fallback, request.params)
            return
        # Only SUPPRESSED: a DECLINED receipt raises nothing (the patient chose not to get these messages).
        if receipt.status == ReceiptStatus.SUPPRESSED:
            self._on_trouble(AttentionReason.PATIENT_UNREACHABLE)

    async def _wait_out_quiet_hours(self, request: NotificationRequest) -> None:
        if request.recipient != Recipient.PATIENT or request.template not in HELD_IN_QUIET_HOURS:
            return
        now = workflow.now()
        allowed = next_allowed(now, self._patient_timezone, self._quiet_hours)
        if allowed <= now:
            return
        task = asyncio.current_task()
        assert task is not None  # a send always runs in its own task
        self._held[request.key] = task
        try:
            await workflow.sleep(allowed - now, summary=f"hold {request.template} until quiet hours end")
        finally:
            del self._held[request.key]

    async def _record_undelivered(self, request: NotificationRequest) -> None:
        try:
            await workflow.execute_activity_method(
                NotificationActivities.record_undelivered,
                UndeliveredMessage(key=request.key, reason="every delivery attempt failed"),
                start_to_close_timeout=OUTBOX_UPDATE.start_to_close,
                schedule_to_close_timeout=OUTBOX_UPDATE.schedule_to_close,
                retry_policy=OUTBOX_UPDATE.retry,
                summary=f"mark {request.template} undelivered",
            )
        except ActivityError:  # the outbox row stays unsent; staff are still told below
            workflow.logger.warning("message %s could not be marked undelivered", request.key)
