"""One page of pathways from Temporal's visibility store, with only the search attributes the list shows
decoded.

The SDK's `list_workflows` decodes every search attribute of every execution twice (typed and untyped),
through the payload converter: about 20 ms of the API's CPU for a page of 50, as much as the visibility
query costs the server (README "Performance"). The list needs seven keyword, bool and datetime values, each a
JSON payload (the SDK's own encoding of search attributes, never through the payload codec: they are not
encrypted), so it reads the page with the raw call and decodes those seven alone.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey

from workflows import search_attributes as sa

_SHOWN = {key.name: key for key in sa.ALL}


@dataclass(frozen=True)
class ListedPathway:
    pathway_id: str
    started_at: datetime
    closed_at: datetime | None
    attributes: dict[str, Any]
    """The shown search attributes the pathway has, by name (sa.ALL), decoded."""

    def get(self, key: SearchAttributeKey[Any]) -> Any:
        return self.attributes.get(key.name)


async def visibility_page(
    client: Client, query: str, page_size: int, page_token: bytes | None
) -> tuple[list[ListedPathway], bytes | None]:
    """The page, and the token of the next one (None after the last); raises RPCError as the SDK does."""
    page = await client.workflow_service.list_workflow_executions(
        ListWorkflowExecutionsRequest(
            namespace=client.namespace, page_size=page_size, next_page_token=page_token or b"", query=query
        ),
        retry=True,
    )
    listed = [
        ListedPathway(
            pathway_id=info.execution.workflow_id,
            started_at=info.start_time.ToDatetime(UTC),
            closed_at=info.close_time.ToDatetime(UTC) if info.HasField("close_time") else None,
            attributes={
                name: value
                for name, payload in info.search_attributes.indexed_fields.items()
                if name in _SHOWN and (value := decoded_attribute(_SHOWN[name], payload)) is not None
            },
        )
        for info in page.executions
    ]
    return listed, page.next_page_token or None


def decoded_attribute(key: SearchAttributeKey[Any], payload: Payload) -> Any:
    """The value, or None where the SDK would skip it too: not JSON, not of the key's type (the `type`
    metadata), or not a value of that type."""
    if payload.metadata.get("encoding") != b"json/plain":
        return None
    kind = key.indexed_value_type.name  # the metadata names it as "Keyword" or "INDEXED_VALUE_TYPE_KEYWORD"
    if payload.metadata.get("type", b"").decode() not in (
        kind.title().replace("_", ""),
        f"INDEXED_VALUE_TYPE_{kind}",
    ):
        return None
    value = json.loads(payload.data)
    if isinstance(value, list) and len(value) == 1:  # a single value may come as a one-item list
        value = value[0]
    if key.indexed_value_type == SearchAttributeIndexedValueType.DATETIME:
        try:
            return datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None
    expected = bool if key.indexed_value_type == SearchAttributeIndexedValueType.BOOL else str
    return value if isinstance(value, expected) else None
