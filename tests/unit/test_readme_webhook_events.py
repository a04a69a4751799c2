"""The README's example of each webhook event is an event as receivers get it, one per type."""

import json
import re
from pathlib import Path
from typing import Any

from domain.webhook_events import EventType, WebhookEvent

README = Path(__file__).parents[2] / "README.md"
# The fields of `data` each type carries (domain/webhook_events.py).
DATA_FIELDS = {
    EventType.PATHWAY_STARTED: {"stage"},
    EventType.STAGE_CHANGED: {"stage"},
    EventType.ATTENTION_RAISED: {"reasons", "attention_reasons"},
    EventType.ATTENTION_CLEARED: {"reasons", "attention_reasons"},
    EventType.APPOINTMENT_BOOKED: {"appointment_id", "kind", "starts_at", "ends_at", "status"},
    EventType.APPOINTMENT_CHANGED: {"appointment_id", "kind", "changes"},
    EventType.RELIEF_CHECK_EVALUATED: {"block_number", "result"},
    EventType.PATHWAY_COMPLETED: {"stage", "outcome"},
    EventType.PATHWAY_CLOSED: {"stage", "outcome"},
}


def _examples() -> list[dict[str, Any]]:
    text = README.read_text()
    block = re.search(r"One example of each.*?```json\n(.*?)```", text, re.S)
    assert block is not None, "no event examples in the README"
    decoder, examples, at = json.JSONDecoder(), [], 0
    body = block.group(1)
    while body[at:].strip():
        at += len(body[at:]) - len(body[at:].lstrip())
        example, at = decoder.raw_decode(body, at)
        examples.append(example)
    return examples


def test_each_type_has_one_example_shaped_as_sent() -> None:
    examples = _examples()
    events = [WebhookEvent.model_validate(example) for example in examples]
    assert sorted(e.type for e in events) == sorted(EventType)
    for event in events:
        assert set(event.data) == DATA_FIELDS[event.type], event.type
