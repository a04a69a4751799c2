"""The payload codec's key in tests: fixed, so that the recorded histories (tests/histories/) stay readable.

Test-only material, public in this file: nothing of the product defaults to it (a process without configured
keys does not start; `make run` generates its own).
"""

from pydantic import SecretStr

from config.codec_keys import parse_keys
from config.settings import Settings
from config.temporal import data_converter

TEST_KEY_ID = "test-2026"
TEST_KEY = "Q1wYF2/XK/TijyqN8WbXMkFdvKdPSULJFFpFSmXihxY="
TEST_KEYS = parse_keys([f"{TEST_KEY_ID}:{TEST_KEY}"], "the tests' key")
TEST_DATA_CONVERTER = data_converter(TEST_KEYS)
"""The data converter of every test client, worker and replayer."""


def with_test_keys(client_address: str, namespace: str) -> Settings:
    """Settings that connect (config/temporal.py) to `client_address` with the tests' key."""
    return Settings(
        temporal_address=client_address,
        temporal_namespace=namespace,
        codec_keys=SecretStr(f"{TEST_KEY_ID}:{TEST_KEY}"),
    )
