"""The one data converter and the client connection: API, worker, tests and replayer share them.

The converter is built from the codec keys (config/codec_keys.py): every payload is encrypted
(config/payload_codec.py), and so are failure messages and stack traces, which the SDK otherwise writes in
the clear (`encode_common_attributes`).
"""

from collections.abc import Sequence
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, Interceptor
from temporalio.common import HeaderCodecBehavior, SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)
from temporalio.runtime import Runtime

from config.codec_keys import CodecKeys, load_codec_keys
from config.payload_codec import EncryptionCodec
from config.settings import Settings
from config.update_not_found import UpdateNotFoundRetries
from domain.contract import FROM_HISTORY
from workflows.search_attributes import ALL


class HistoryJSONPayloadConverter(PydanticJSONPlainPayloadConverter):
    """Pydantic JSON, decoded with the `FROM_HISTORY` context: a stored payload with a field this build does
    not know still decodes (see domain/contract.py)."""

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        adapter = self._type_adapter(type_hint if type_hint is not None else Any)
        return adapter.validate_json(payload.data, context={FROM_HISTORY: True})


class PayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        json_converter = HistoryJSONPayloadConverter()
        super().__init__(
            *(
                json_converter if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


def data_converter(keys: CodecKeys) -> DataConverter:
    """Pydantic JSON, encrypted with `keys`, failures' messages and stack traces included."""
    return DataConverter(
        payload_converter_class=PayloadConverter,
        payload_codec=EncryptionCodec(keys),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    interceptors: Sequence[Interceptor] = (),
) -> Client:
    """A client of the configured server and namespace, with the data converter of the configured keys; on
    `runtime` (config/temporal_runtime.py; None: the SDK's default one), with `interceptors` (tracing,
    config/tracing.py), which its workers take too. Updates survive the server's transient "not found"
    (config/update_not_found.py)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(load_codec_keys(settings)),
        runtime=runtime,
        interceptors=[UpdateNotFoundRetries(), *interceptors],
        # headers (the trace context, config/tracing.py) are encrypted like payloads; this client's
        # workers decode and encode them too
        header_codec_behavior=HeaderCodecBehavior.CODEC,
    )


async def register_search_attributes(client: Client, namespace: str = "default") -> None:
    """Registers the custom search attributes (the dev server gets them as start flags instead)."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(int(key.indexed_value_type)) for key in ALL
            },
        )
    )


def dev_server_search_attribute_flags() -> list[str]:
    """`--search-attribute Name=Type` flags registering the custom search attributes on the dev server."""
    flags: list[str] = []
    for key in ALL:
        flags += [
            "--search-attribute",
            f"{key.name}={SearchAttributeIndexedValueType(key.indexed_value_type).name.title()}",
        ]
    return flags
