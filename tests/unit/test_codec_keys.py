"""The codec's keys: from DVR_CODEC_KEYS, a key file, or the local stack's generated file; never shown."""

import base64
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.codec_keys import (
    KEY_FILE,
    CodecKeyError,
    ensure_local_key_file,
    keys_location,
    load_codec_keys,
    parse_keys,
)
from config.settings import Settings
from workers.stack_banner import banner

ONE = base64.b64encode(b"1" * 32).decode()
TWO = base64.urlsafe_b64encode(bytes(range(200, 232))).decode()


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    # The generated key file must be private whatever the umask of the shell that started the stack.
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def settings(tmp_path: Path, **given: object) -> Settings:
    return Settings(data_dir=tmp_path, **given)  # type: ignore[arg-type]


def test_the_first_entry_encrypts_and_every_entry_decrypts() -> None:
    keys = parse_keys([f"2026-09:{ONE}", f" 2026-01 : {TWO} "], "test")
    assert keys.active_id == "2026-09"
    assert keys.keys == {"2026-09": b"1" * 32, "2026-01": bytes(range(200, 232))}


@pytest.mark.parametrize(
    ("entries", "says"),
    [
        ([ONE], "is not `id:base64-key`"),
        ([f"bad id:{ONE}"], "is not `id:base64-key`"),
        ([f"a:{ONE}", f"a:{TWO}"], "given twice"),
        (["a:not base64!"], "is not base64"),
        ([f"a:{base64.b64encode(b'short').decode()}"], "is 5 bytes; AES-256 needs 32"),
        ([], "holds no key"),
    ],
)
def test_malformed_keys_are_refused_without_showing_them(entries: list[str], says: str) -> None:
    with pytest.raises(CodecKeyError, match=says) as refused:
        parse_keys(entries, "test")
    assert ONE not in str(refused.value) and TWO not in str(refused.value)


def test_neither_repr_of_keys_nor_of_settings_shows_key_material(tmp_path: Path) -> None:
    given = settings(tmp_path, codec_keys=f"a:{ONE},b:{TWO}")
    keys = load_codec_keys(given)
    for text in (repr(keys), str(keys), repr(given)):
        assert ONE not in text and TWO not in text and "1111" not in text


def test_keys_come_from_the_setting(tmp_path: Path) -> None:
    keys = load_codec_keys(settings(tmp_path, codec_keys=f"new:{ONE}, old:{TWO},"))
    assert (keys.active_id, list(keys.keys)) == ("new", ["new", "old"])


def test_a_rotations_new_key_can_decrypt_only_until_it_is_chosen_to_encrypt(tmp_path: Path) -> None:
    # phase one: the new key is held everywhere, the old one still encrypts
    phase_one = load_codec_keys(
        settings(tmp_path, codec_keys=f"new:{ONE},old:{TWO}", codec_encrypt_key_id="old")
    )
    assert (phase_one.active_id, list(phase_one.keys)) == ("old", ["new", "old"])
    # from a file too; unset (or empty), the first key encrypts
    path = tmp_path / "keys"
    path.write_text(f"old:{TWO}\nnew:{ONE}\n")
    assert (
        load_codec_keys(settings(tmp_path, codec_keys_file=path, codec_encrypt_key_id="new")).active_id
        == "new"
    )
    assert (
        load_codec_keys(settings(tmp_path, codec_keys_file=path, codec_encrypt_key_id="")).active_id == "old"
    )


def test_an_encrypting_key_that_is_not_held_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CodecKeyError, match="DVR_CODEC_ENCRYPT_KEY_ID names 'newer'") as refused:
        load_codec_keys(settings(tmp_path, codec_keys=f"new:{ONE},old:{TWO}", codec_encrypt_key_id="newer"))
    assert ONE not in str(refused.value) and TWO not in str(refused.value)


def test_keys_come_from_a_key_file_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# rotated in September\nnew:{ONE}  # active\n\nold:{TWO}\n")
    keys = load_codec_keys(settings(tmp_path, codec_keys_file=path))
    assert (keys.active_id, list(keys.keys)) == ("new", ["new", "old"])


def test_the_setting_and_a_key_file_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CodecKeyError, match="not both"):
        load_codec_keys(settings(tmp_path, codec_keys=f"a:{ONE}", codec_keys_file=tmp_path / "keys"))


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CodecKeyError, match="cannot be read"):
        load_codec_keys(settings(tmp_path, codec_keys_file=tmp_path / "nowhere"))


def test_no_keys_at_all_is_an_error_that_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(CodecKeyError, match="DVR_CODEC_KEYS or DVR_CODEC_KEYS_FILE"):
        load_codec_keys(settings(tmp_path))


def test_empty_settings_count_as_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVR_CODEC_KEYS", "")
    monkeypatch.setenv("DVR_CODEC_KEYS_FILE", "")
    given = Settings(data_dir=tmp_path)
    assert (given.codec_keys, given.codec_keys_file) == (None, None)


@pytest.mark.usefixtures("permissive_umask")
def test_the_local_stack_generates_a_private_key_once_and_keeps_it(tmp_path: Path) -> None:
    local = settings(tmp_path)
    ensure_local_key_file(local)
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = load_codec_keys(local)
    assert first.active_id.startswith("local-") and len(first.keys[first.active_id]) == 32
    ensure_local_key_file(local)
    assert load_codec_keys(local) == first
    location = keys_location(local)
    assert str(path) in location
    assert base64.b64encode(first.keys[first.active_id]).decode() not in location


def test_configured_keys_leave_no_generated_file(tmp_path: Path) -> None:
    ensure_local_key_file(settings(tmp_path, codec_keys=f"a:{ONE}"))
    assert not (tmp_path / KEY_FILE).exists()
    assert keys_location(settings(tmp_path, codec_keys=f"a:{ONE}")) == "as set in DVR_CODEC_KEYS"


def test_a_broken_local_key_file_fails_at_once(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_text("local-x:garbage\n")
    with pytest.raises(CodecKeyError, match="is not base64"):
        ensure_local_key_file(settings(tmp_path))


def test_the_banner_says_where_the_codec_keys_are_never_a_key(tmp_path: Path) -> None:
    local = settings(tmp_path)
    ensure_local_key_file(local)
    material = (tmp_path / KEY_FILE).read_text().split(":")[-1].strip()
    text = banner(local, "somewhere", "embedded")
    assert material not in text and str(tmp_path / KEY_FILE) in text
    assert "Codec server   http://127.0.0.1:8234" in text
