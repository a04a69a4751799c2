"""The local stack's Temporal dev server: no authentication of its own, so it listens on loopback only."""

from pathlib import Path

import pytest

from config.settings import Settings
from workers.dev_server import temporal_command
from workers.preflight import StackError


def flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_the_grpc_port_and_the_ui_are_bound_to_127_0_0_1() -> None:
    command = temporal_command(Settings(temporal_address="localhost:7300", temporal_ui_port=8300))
    assert (flag(command, "--ip"), flag(command, "--ui-ip")) == ("127.0.0.1", "127.0.0.1")
    assert (flag(command, "--port"), flag(command, "--ui-port")) == ("7300", "8300")


@pytest.mark.parametrize("address", ["0.0.0.0:7233", "10.1.2.3:7233", ":7233"])
def test_an_address_other_than_loopback_is_refused(address: str) -> None:
    with pytest.raises(StackError, match=r"127\.0\.0\.1 only"):
        temporal_command(Settings(temporal_address=address))


def test_the_ui_decodes_through_the_stacks_codec_server_on_loopback() -> None:
    command = temporal_command(Settings(temporal_ui_port=8300, codec_server_port=8301))
    assert flag(command, "--ui-codec-endpoint") == "http://127.0.0.1:8301"


def test_a_codec_server_host_other_than_loopback_is_refused() -> None:
    with pytest.raises(StackError, match=r"DVR_CODEC_SERVER_HOST is 0\.0\.0\.0"):
        temporal_command(Settings(codec_server_host="0.0.0.0"))


def test_history_is_kept_in_the_data_folders_file_unless_asked_to_stay_in_memory(tmp_path: Path) -> None:
    kept = temporal_command(Settings(data_dir=tmp_path))
    assert flag(kept, "--db-filename") == str(tmp_path / "temporal.sqlite")
    in_memory = temporal_command(Settings(data_dir=tmp_path, temporal_dev_server_in_memory=True))
    assert "--db-filename" not in in_memory
