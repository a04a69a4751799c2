"""A pathway walked through the API with canary strings (the patient's name and MRN, clinicians, a change
note, a diary transcriber, override and decision reasons, a withdrawal reason) leaves no canary in what
Temporal stores in the clear: read without the codec, no event of the pathway or of its children holds one,
every payload but the search attributes is encrypted, and the workflow ids, search attributes and memos carry
none. With the codec the free text reads back, while PHI is not in history even encrypted. Current details
and the error messages answered carry no free text either."""

import asyncio
import json
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client

from config.payload_codec import ENCODING
from domain.identifiers import outcome_check_ins_id, relief_check_id
from tests.codec_keys import TEST_DATA_CONVERTER
from tests.integration.polling import next_action_is, poll_view
from tests.integration.walk import RUN_WAIT_SECONDS
from tests.referrals import referral_body

RUN = uuid.uuid4().hex[:8]
# PHI: lives in PostgreSQL only, never in history, not even encrypted.
PHI = {
    "given name": f"Quintessa{RUN}",
    "family name": f"Vanderplume{RUN}",
    "mrn": f"MRN-CANARY-{RUN}",
    "e-mail": f"quintessa.{RUN}@canary.example",
}
# Free text: in history, but only encrypted.
FREE_TEXT = {
    "reviewer": f"Dr. Radiologist-{RUN}",
    "change note": f"patient asked to move it: daughter's wedding {RUN}",
    "override reason": f"override: known L4-L5 arthropathy {RUN}",
    "diary transcriber": f"Nurse Transcriber-{RUN}",
    "decision reason": f"approved: concordant relief, patient keen {RUN}",
    "withdrawal reason": f"withdrawn: moving to Flagstaff {RUN}",
}
CANARIES = {**PHI, **FREE_TEXT}


async def walk_with_canaries(api: httpx.AsyncClient) -> str:
    """Referral to the outcome check-ins, then a withdrawal: every free-text field filled with a canary."""
    body = referral_body(f"REF-CANARY-{RUN}")
    body["patient"] |= {
        "given_name": PHI["given name"],
        "family_name": PHI["family name"],
        "mrn": PHI["mrn"],
        "email": PHI["e-mail"],
    }
    created = await api.post("/v1/referrals", json=body)
    assert created.status_code == 201, created.text
    pathway_id: str = created.json()["pathway_id"]

    async def step(path: str, json: Mapping[str, object], *, after: str | None = None) -> dict[str, Any]:
        if after is not None:
            await poll_view(api, pathway_id, after, next_action_is(after))
        answer = await api.post(f"/v1/pathways/{pathway_id}/{path}", json=json)
        assert answer.status_code == 200, answer.text
        view: dict[str, Any] = answer.json()
        return view

    review = {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": FREE_TEXT["reviewer"]}
    await step("mri-review", review, after="mri_review")
    booked = await poll_view(api, pathway_id, "exam booked", next_action_is("exam"))
    [exam] = booked["appointments"]
    await step(
        f"appointments/{exam['appointment_id']}/change-request", {"wish": "reschedule", "via": "phone"}
    )
    resolution = {"reason": "reschedule_requested", "note": FREE_TEXT["change note"], "resolved_by": "Desk"}
    await step("resolve-attention", resolution)
    await step("exam", {"palpation_concordant": True, "levels": ["L4-L5"], "examined_by": "Dr. P"})
    block = {
        "anesthetic": "lidocaine",
        "levels": ["L4-L5"],
        "side": "bilateral",
        "baseline_pain": 8,
        "performed_by": "Dr. P",
        "override_reason": FREE_TEXT["override reason"],
    }
    await step("block", block, after="block")
    await poll_view(api, pathway_id, "first diary prompt", next_action_is("pain_report"))
    # Near-complete relief held for a run's length (the demo profile's 30 minutes), then the pain returns.
    await step("pain-reports", {"pain": 1, "recorded_by": FREE_TEXT["diary transcriber"]})
    await asyncio.sleep(RUN_WAIT_SECONDS)
    await step("pain-reports", {"pain": 0})
    await step("pain-reports", {"pain": 7})
    await poll_view(api, pathway_id, "candidacy", lambda v: v["stage"] == "candidacy")
    checklist = dict.fromkeys(
        [
            "anticoagulants_managed",
            "no_active_infection",
            "allergies_reviewed",
            "pregnancy_excluded_or_not_applicable",
        ],
        True,
    )
    decision = {
        "approved": True,
        "anesthesia": "twilight",
        "decided_by": "Dr. S",
        "reason": FREE_TEXT["decision reason"],
        "safety_checklist": checklist,
    }
    await step("candidacy-decision", decision)
    procedure = {"status": "completed", "levels_treated": ["L4-L5"], "performed_by": "Dr. S"}
    await step("procedure", procedure, after="procedure")
    await step("follow-up", {"pain": 1, "returned_to_work": True, "red_flags": []})
    await poll_view(api, pathway_id, "outcome check-ins", lambda v: v["stage"] == "outcomes")
    await step("withdraw", {"reason": FREE_TEXT["withdrawal reason"]})
    await poll_view(api, pathway_id, "completed", lambda v: v["status"] == "completed")

    again = await api.post(
        f"/v1/pathways/{pathway_id}/withdraw", json={"reason": FREE_TEXT["withdrawal reason"]}
    )
    assert again.status_code == 409 and RUN not in again.text  # the refusal names no free text
    return pathway_id


async def every_run(client: Client, workflow_id: str) -> list[list[HistoryEvent]]:
    """The events of each run of `workflow_id`, the latest first, following its continue-as-new chain."""
    runs: list[list[HistoryEvent]] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append(list(history.events))
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return runs
        run_id = started.continued_execution_run_id


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every payload in `message`, however deep, except search attributes (Temporal indexes them: plain)."""
    for field, value in message.ListFields():
        if field.message_type is None or field.name == "search_attributes":
            continue
        if isinstance(value, Message):
            entries = [value]
        elif hasattr(value, "values"):  # a map
            entries = [v for v in value.values() if isinstance(v, Message)]
        else:  # repeated
            entries = list(value)
        for entry in entries:
            if isinstance(entry, Payload):
                yield entry
            else:
                yield from payloads_in(entry)


# What the SDK's core writes of a local activity call (the webhook outbox's write) beside its result.
CORE_LOCAL_ACTIVITY_RECORD = {
    "seq",
    "attempt",
    "activity_id",
    "activity_type",
    "complete_time",
    "backoff",
    "original_schedule_time",
    "activation_index",
}


def local_activity_record(event: HistoryEvent) -> Payload | None:
    """The plain-JSON record the SDK's core keeps of a local activity call in its marker (ids, type, attempt
    and times, never its input or result), once it is checked to be only that."""
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != "core_local_activity":
        return None
    [record] = marker.details["data"].payloads
    assert record.metadata["encoding"] == b"json/plain"
    assert set(json.loads(record.data)) <= CORE_LOCAL_ACTIVITY_RECORD, json.loads(record.data)
    return record


def application_payloads(event: HistoryEvent) -> Iterator[Payload]:
    """Every payload of `event` the application's data converter wrote: all but the core's own record of a
    local activity call (`local_activity_record`), which is checked here to be only that."""
    core_record = local_activity_record(event)
    return (payload for payload in payloads_in(event) if payload != core_record)


def canaries_in(data: bytes) -> list[str]:
    return [name for name, canary in CANARIES.items() if canary.encode() in data]


async def test_history_read_without_the_codec_holds_no_canary(
    api: httpx.AsyncClient, temporal: Client
) -> None:
    pathway_id = await walk_with_canaries(api)
    without_codec = Client(temporal.service_client, namespace=temporal.namespace)  # the default converter
    workflow_ids = [pathway_id, relief_check_id(pathway_id, 1), outcome_check_ins_id(pathway_id)]

    decoded_text = b""
    for workflow_id in workflow_ids:
        assert not canaries_in(workflow_id.encode())
        for events in await every_run(without_codec, workflow_id):
            for event in events:
                found = canaries_in(event.SerializeToString())
                assert not found, f"{workflow_id} event {event.event_id} ({event.event_type}) holds {found}"
                for payload in application_payloads(event):
                    assert payload.metadata["encoding"] == ENCODING, f"{workflow_id} event {event.event_id}"
                    [plain] = await TEST_DATA_CONVERTER.payload_codec.decode([payload])  # type: ignore[union-attr]
                    decoded_text += plain.SerializeToString()

        described = (await without_codec.get_workflow_handle(workflow_id).describe()).raw_description
        info = described.workflow_execution_info
        assert not canaries_in(info.search_attributes.SerializeToString()), workflow_id
        assert not canaries_in(info.memo.SerializeToString()), workflow_id
        metadata = await temporal.get_workflow_handle(workflow_id).query(
            "__temporal_workflow_metadata", result_type=WorkflowMetadata
        )
        assert not canaries_in(metadata.current_details.encode()), f"current details of {workflow_id}"

    # With the codec, the free text reads back; PHI was never given to Temporal at all.
    assert sorted(canaries_in(decoded_text)) == sorted(FREE_TEXT)
