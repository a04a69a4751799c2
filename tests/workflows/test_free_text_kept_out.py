"""Free text (reasons, notes) reaches history only inside payloads, which the codec encrypts: never a search
attribute, the current details the Temporal UI shows, nor an error message, of the pathway or its children."""

from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from google.protobuf.message import Message
from temporalio.api.failure.v1 import Failure
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.stages import Outcome
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver

Start = Callable[..., Awaitable[PathwayDriver]]
CANARY = "canary-Persimmon-Oakhurst"
POSITIVE_DIARY = [(timedelta(minutes=15), 0), (timedelta(hours=1), 0), (timedelta(hours=3), 8)]


def failures_in(message: Message) -> Iterator[Failure]:
    """The failures recorded anywhere in `message` (their causes come with them)."""
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        entries = [value] if isinstance(value, Message) else [v for v in value if isinstance(v, Message)]
        for entry in entries:
            if isinstance(entry, Failure):
                yield entry
            else:
                yield from failures_in(entry)


def messages_of(error: BaseException | None) -> list[str]:
    return [] if error is None else [str(error), *messages_of(error.__cause__)]


async def assert_kept_out(pathway: PathwayDriver, handles: list[WorkflowHandle[Any, Any]]) -> None:
    """No canary in the search attributes written, the current details, or any failure recorded: failures
    are read decrypted, since the rule is about what an error says, which the codec only hides."""
    converter = pathway.env.client.data_converter
    for handle in handles:
        for event in (await handle.fetch_history()).events:
            started = event.workflow_execution_started_event_attributes.search_attributes
            upserted = event.upsert_workflow_search_attributes_event_attributes.search_attributes
            for attributes in (started, upserted):
                assert CANARY.encode() not in attributes.SerializeToString(), (
                    f"{handle.id}: search attributes"
                )
            for failure in failures_in(event):
                decoded = await converter.decode_failure(failure)
                assert not [m for m in messages_of(decoded) if CANARY in m], f"{handle.id}: an error message"
        metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        assert CANARY not in metadata.current_details, f"{handle.id}: current details"


async def test_a_decline_and_an_override_keep_their_reasons_out_of_what_the_ui_shows(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await pathway.mri_review()
    await pathway.exam()
    await pathway.block(override_reason=f"{CANARY}: levels as agreed")
    await pathway.diary(POSITIVE_DIARY)
    declined = await pathway.decide(approved=False, reason=f"{CANARY}: prefers conservative care")
    assert (declined.outcome, declined.outcome_reason) == (
        Outcome.DECLINED,
        f"{CANARY}: prefers conservative care",
    )
    await pathway.result()
    await assert_kept_out(pathway, [pathway.handle, pathway.relief_check()])


async def test_a_withdrawal_during_the_diary_keeps_its_reason_out_of_what_the_ui_shows(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await pathway.to_relief_check()
    await pathway.diary(POSITIVE_DIARY[:1])
    closed = await pathway.withdraw(f"{CANARY}: moved away")
    assert closed.outcome == Outcome.WITHDRAWN
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pathway.withdraw(f"{CANARY}: asked again")
    assert isinstance(refused.value.cause, ApplicationError)
    assert CANARY not in refused.value.cause.message
    await pathway.result()
    await assert_kept_out(pathway, [pathway.handle, pathway.relief_check()])
