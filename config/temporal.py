"""The one data converter and the client connection used by the API, the worker and the tests."""

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from workflows.search_attributes import ALL

DATA_CONVERTER: DataConverter = pydantic_data_converter


async def connect(address: str, namespace: str = "default") -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=DATA_CONVERTER)


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
