"""The local stack's Temporal dev server: its command line, and the addresses its Web UI and the codec server
the UI decodes through are reached at. Both listen on 127.0.0.1 only: neither has authentication of its own
(the codec server's sign-in aside)."""

from config.binaries import installed_binary
from config.settings import Settings
from config.temporal import dev_server_search_attribute_flags
from workers.preflight import StackError

LOOPBACK = ("127.0.0.1", "localhost")


def temporal_command(settings: Settings) -> list[str]:
    host, _, port = settings.temporal_address.rpartition(":")
    if host not in LOOPBACK:
        raise StackError(
            f"DVR_TEMPORAL_ADDRESS is {settings.temporal_address}: the local stack's Temporal dev server has"
            " no authentication and listens on 127.0.0.1 only"
        )
    if settings.codec_server_host not in LOOPBACK:
        raise StackError(
            f"DVR_CODEC_SERVER_HOST is {settings.codec_server_host}: the local stack's codec server listens"
            " on 127.0.0.1 only"
        )
    return [
        installed_binary("temporal"), "server", "start-dev",
        "--ip", "127.0.0.1", "--ui-ip", "127.0.0.1", "--port", port,
        "--ui-port", str(settings.temporal_ui_port),
        "--ui-codec-endpoint", codec_endpoint(settings),
        "--namespace", settings.temporal_namespace,
        "--log-level", "warn",
        *dev_server_search_attribute_flags(),
        *([] if settings.temporal_dev_server_in_memory
          else ["--db-filename", str(settings.data_dir / "temporal.sqlite")]),
    ]  # fmt: skip


def codec_endpoint(settings: Settings) -> str:
    """Where the UI's browser reaches the codec server: the same host as the UI, so that the session
    cookie, SameSite=Strict, goes with its requests."""
    return f"http://127.0.0.1:{settings.codec_server_port}"


def ui_origin(settings: Settings) -> str:
    """The dev server's Web UI, as the banner gives it: the one origin the codec server answers."""
    return f"http://127.0.0.1:{settings.temporal_ui_port}"
