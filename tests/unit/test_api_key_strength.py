"""API keys have a minimum strength: configured, kept or created, a short or repetitive key is refused, and
the refusal never shows the key."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from config.api_keys import WeakApiKey, check_key_strength
from config.settings import Settings
from db.api_clients import new_api_key, upsert_client
from db.bootstrap import KEY_FILE, bootstrap_key, key_location
from workers.stack_banner import banner

WEAK = ["abc123", "dvr_short-key", "a" * 64, "dvr_" + "ab" * 30]
STRONG = "dvr_k3y-with-enough-length-and-variety"


@pytest.mark.parametrize("key", WEAK)
def test_weak_keys_are_refused(key: str) -> None:
    with pytest.raises(WeakApiKey) as refused:
        check_key_strength(key)
    assert key not in str(refused.value)


def test_generated_and_reasonable_keys_pass() -> None:
    check_key_strength(new_api_key())
    check_key_strength(STRONG)


@pytest.mark.parametrize("key", WEAK)
def test_a_weak_bootstrap_key_is_refused_without_showing_it(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVR_BOOTSTRAP_API_KEY", key)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert key not in str(refused.value)
    with pytest.raises(WeakApiKey):
        bootstrap_key(Path("unused"), key)


def test_a_weak_kept_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_text("abc123\n")
    with pytest.raises(WeakApiKey):
        bootstrap_key(tmp_path)


async def test_a_weak_key_is_not_installed() -> None:
    class NoDatabase:
        async def fetchval(self, *args: object) -> object:
            raise AssertionError("a weak key reached the database")

    with pytest.raises(WeakApiKey):
        await upsert_client(NoDatabase(), "client", "abc123", ("pathways:read",))  # type: ignore[arg-type]


def test_the_banner_says_where_the_key_is_not_the_key(tmp_path: Path) -> None:
    key = bootstrap_key(tmp_path)
    text = banner(Settings(data_dir=tmp_path), key_location(tmp_path), "embedded")
    assert key not in text
    assert str(tmp_path / KEY_FILE) in text
    configured = banner(Settings(), key_location(tmp_path, STRONG), "embedded")
    assert STRONG not in configured and "DVR_BOOTSTRAP_API_KEY" in configured
