"""The payload codec: AES-256-GCM under key ids; rotation keeps old history readable; nothing in the clear."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from config.codec_keys import parse_keys
from config.payload_codec import ENCODING, KEY_ID, EncryptionCodec, PayloadNotDecrypted
from config.temporal import data_converter
from domain.results import Withdrawal
from tests.codec_keys import TEST_DATA_CONVERTER

OLD = base64.b64encode(bytes(range(32))).decode()
NEW = base64.b64encode(bytes(range(100, 132))).decode()
CANARY = b"canary-Zebulon-Quaxley-moved-to-Tucson"


def codec(*entries: str) -> EncryptionCodec:
    return EncryptionCodec(parse_keys(list(entries), "test"))


def plain(data: bytes = CANARY) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


payloads = st.builds(
    Payload,
    metadata=st.dictionaries(st.text(min_size=1, max_size=20), st.binary(max_size=40), max_size=4),
    data=st.binary(max_size=2000),
)


@given(given_payloads=st.lists(payloads, max_size=5))
async def test_whatever_is_encoded_decodes_to_the_same_payloads(given_payloads: list[Payload]) -> None:
    both = codec(f"new:{NEW}", f"old:{OLD}")
    encoded = await both.encode(given_payloads)
    assert all(p.metadata["encoding"] == ENCODING for p in encoded)
    assert await both.decode(encoded) == given_payloads


async def test_an_encrypted_payload_names_its_key_and_carries_nothing_in_the_clear() -> None:
    [encrypted] = await codec(f"new:{NEW}").encode([plain()])
    assert dict(encrypted.metadata) == {"encoding": b"binary/encrypted", KEY_ID: b"new"}
    assert CANARY not in encrypted.SerializeToString()
    assert b"json/plain" not in encrypted.SerializeToString()  # the original metadata is sealed too


async def test_the_same_payload_encrypts_differently_each_time() -> None:
    once, twice = await codec(f"new:{NEW}").encode([plain(), plain()])
    assert once.data != twice.data  # a fresh nonce per payload


async def test_after_a_rotation_the_new_key_encrypts_and_the_old_one_still_decrypts() -> None:
    [written_before] = await codec(f"old:{OLD}").encode([plain()])
    rotated = codec(f"new:{NEW}", f"old:{OLD}")
    [written_after] = await rotated.encode([plain()])
    assert written_after.metadata[KEY_ID] == b"new"
    assert await rotated.decode([written_before, written_after]) == [plain(), plain()]


async def test_a_payload_of_a_key_not_held_fails_naming_the_key_id_only() -> None:
    [written] = await codec(f"old:{OLD}").encode([plain()])
    with pytest.raises(PayloadNotDecrypted) as refused:
        await codec(f"new:{NEW}").decode([written])
    message = str(refused.value)
    assert "'old'" in message and "DVR_CODEC_KEYS" in message
    for secret in (OLD, NEW, CANARY.decode()):
        assert secret not in message


async def test_a_key_not_held_is_named_bounded_and_the_ids_held_are_not_told() -> None:
    # The message reaches the codec server's callers: the ids held go to the log only.
    key_id = b"x\n<script>" + b"y" * 10_000
    tampered = Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=b"z" * 40)
    with capture_logs() as logs, pytest.raises(PayloadNotDecrypted) as refused:
        await codec(f"new:{NEW}", f"old:{OLD}").decode([tampered])
    message = str(refused.value)
    assert "'new'" not in message and "'old'" not in message and "new," not in message
    assert "\n" not in message and "<" not in message and len(message) < 200
    assert "x??script?yyy" in message
    [logged] = [entry for entry in logs if entry["event"] == "codec.key_not_held"]
    assert logged["held"] == ["new", "old"]


@pytest.mark.parametrize("at", [0, 12, 20, -1])  # the nonce, the ciphertext, the tag
async def test_altered_data_is_refused(at: int) -> None:
    new = codec(f"new:{NEW}")
    [written] = await new.encode([plain()])
    altered = bytearray(written.data)
    altered[at] ^= 0x01
    written.data = bytes(altered)
    with pytest.raises(PayloadNotDecrypted, match="failed authentication") as refused:
        await new.decode([written])
    assert CANARY.decode() not in str(refused.value)


async def test_a_payload_claiming_another_held_key_is_refused() -> None:
    both = codec(f"new:{NEW}", f"old:{OLD}")
    [written] = await both.encode([plain()])
    written.metadata[KEY_ID] = b"old"
    with pytest.raises(PayloadNotDecrypted, match="failed authentication"):
        await both.decode([written])


async def test_a_truncated_payload_is_refused() -> None:
    new = codec(f"new:{NEW}")
    [written] = await new.encode([plain()])
    written.data = written.data[:5]
    with pytest.raises(PayloadNotDecrypted):
        await new.decode([written])


async def test_payloads_written_before_the_codec_pass_through_decoding() -> None:
    unencrypted = [plain(), Payload(metadata={"encoding": b"binary/null"})]
    assert await codec(f"new:{NEW}").decode(unencrypted) == unencrypted


async def test_the_data_converter_encrypts_values_and_reads_them_back() -> None:
    value = Withdrawal(reason=CANARY.decode())
    [payload] = await TEST_DATA_CONVERTER.encode([value])
    assert payload.metadata["encoding"] == ENCODING
    assert CANARY not in payload.SerializeToString()
    assert await TEST_DATA_CONVERTER.decode([payload], [Withdrawal]) == [value]


async def test_a_failure_message_and_stack_trace_are_encrypted_too() -> None:
    try:
        raise ApplicationError(f"could not reach {CANARY.decode()}", type="Anything")
    except ApplicationError as err:
        raised = err
    failure = Failure()
    await TEST_DATA_CONVERTER.encode_failure(raised, failure)
    assert CANARY not in failure.SerializeToString()
    assert (failure.message, failure.stack_trace) == ("Encoded failure", "")
    decoded = await TEST_DATA_CONVERTER.decode_failure(failure)
    assert isinstance(decoded, ApplicationError)
    assert decoded.message == f"could not reach {CANARY.decode()}"
    assert decoded.failure is not None and "test_payload_codec.py" in decoded.failure.stack_trace


async def test_another_key_set_cannot_read_the_tests_payloads() -> None:
    [payload] = await TEST_DATA_CONVERTER.encode(["anything"])
    with pytest.raises(PayloadNotDecrypted):
        await data_converter(parse_keys([f"new:{NEW}"], "test")).decode([payload], [str])
