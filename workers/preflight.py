"""Before the local stack starts anything: its data folder made owner-only, and its ports checked free.

A stack whose port is taken (another stack, or the processes of one that was killed) must fail at once, not
print its banner while its worker joins the other stack's Temporal.
"""

import errno
import os
import socket
from pathlib import Path

from config.settings import Settings


class StackError(Exception):
    pass


def data_dir_mode() -> int:
    """0700. As root, 0711: embedded PostgreSQL then runs as the user `pgserver`, who must pass through the
    data folder to its own (0700) folder; others may pass through, never list or read."""
    return 0o711 if os.geteuid() == 0 else 0o700


def secure_data_dir(data_dir: Path) -> None:
    """Creates the data folder if needed and makes it, and every file directly in it, owner-only (files
    from runs before this rule included). PostgreSQL keeps its own folder at 0700."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(data_dir_mode())
    for path in data_dir.iterdir():
        if path.is_file() and not path.is_symlink():
            path.chmod(0o600)


def port_in_use(host: str, port: int) -> bool:
    """Whether something listens on (or holds) `port` of `host`: tried as a server would take the port."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no use
        try:
            sock.bind(address)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return True
            raise StackError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    return False


def check_ports_free(settings: Settings) -> None:
    """Fails (StackError) when a port the stack is to listen on is in use."""
    try:
        temporal_port = int(settings.temporal_address.rpartition(":")[2])
    except ValueError:
        raise StackError(f"DVR_TEMPORAL_ADDRESS is {settings.temporal_address}: it needs host:port") from None
    wanted = [
        ("127.0.0.1", temporal_port, "Temporal gRPC, DVR_TEMPORAL_ADDRESS"),
        ("127.0.0.1", settings.temporal_ui_port, "Temporal UI, DVR_TEMPORAL_UI_PORT"),
        (settings.api_host, settings.api_port, "API, DVR_API_PORT"),
        ("127.0.0.1", settings.codec_server_port, "codec server, DVR_CODEC_SERVER_PORT"),
    ]
    for port, what in (
        (settings.api_metrics_port, "API metrics, DVR_API_METRICS_PORT"),
        (settings.worker_metrics_port, "worker metrics, DVR_WORKER_METRICS_PORT"),
    ):
        if port is not None:
            wanted.append((settings.metrics_host, port, what))
    for host, port, what in wanted:
        if port_in_use(host, port):
            raise StackError(
                f"port {port} ({what}) is in use: is another stack running, or the processes of one that was"
                " killed? Stop it, or choose other ports"
            )
