"""The list's decoding of a search attribute payload (api/visibility_page.py) takes what the SDK takes and
skips what it skips: another encoding, another type, a value not of the key's type."""

from datetime import UTC, datetime

from temporalio.api.common.v1 import Payload
from temporalio.converter import encode_search_attribute_values

from api.visibility_page import decoded_attribute
from workflows import search_attributes as sa


def _payload(data: bytes, type_: str | None, encoding: bytes = b"json/plain") -> Payload:
    metadata = {"encoding": encoding} | ({} if type_ is None else {"type": type_.encode()})
    return Payload(metadata=metadata, data=data)


def test_values_the_sdk_encodes_decode_as_set() -> None:
    due = datetime(2026, 12, 5, 22, 30, 15, 123456, tzinfo=UTC)
    encoded = (
        (sa.PATHWAY_STAGE, encode_search_attribute_values(["mri"]), "mri"),
        (sa.NEEDS_ATTENTION, encode_search_attribute_values([True]), True),
        (sa.NEXT_ACTION_DUE, encode_search_attribute_values([due]), due),
    )
    for key, payload, value in encoded:
        payload.metadata["type"] = key.indexed_value_type.name.title().encode()
        assert decoded_attribute(key, payload) == value


def test_either_spelling_of_the_type_and_a_one_item_list() -> None:
    assert decoded_attribute(sa.PATHWAY_STAGE, _payload(b'["exam"]', "INDEXED_VALUE_TYPE_KEYWORD")) == "exam"
    assert decoded_attribute(
        sa.NEXT_ACTION_DUE, _payload(b'"2026-12-05T22:30:15.123456789Z"', "Datetime")
    ) == datetime(2026, 12, 5, 22, 30, 15, 123456, tzinfo=UTC)


def test_what_the_sdk_skips_is_skipped() -> None:
    assert decoded_attribute(sa.PATHWAY_STAGE, _payload(b"", "Keyword", b"binary/null")) is None
    assert decoded_attribute(sa.PATHWAY_STAGE, _payload(b'"mri"', None)) is None
    assert decoded_attribute(sa.PATHWAY_STAGE, _payload(b'"mri"', "Text")) is None
    assert decoded_attribute(sa.NEEDS_ATTENTION, _payload(b'"yes"', "Bool")) is None
    assert decoded_attribute(sa.NEXT_ACTION_DUE, _payload(b'"soon"', "Datetime")) is None
    assert decoded_attribute(sa.PATHWAY_STAGE, _payload(b'["mri", "exam"]', "Keyword")) is None
