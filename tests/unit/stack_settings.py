"""Settings for a stack started inside a test: every port free, so a `make run` on the default ports (a
developer's, beside the test run) does not make the stack refuse to start."""

from pathlib import Path

from config.settings import Settings
from tests.integration.processes import free_port

PORTS = (
    "temporal_port",
    "temporal_ui_port",
    "api_port",
    "codec_server_port",
    "api_metrics_port",
    "worker_metrics_port",
)


def free_port_settings(data_dir: Path, **ports: int) -> Settings:
    """Settings with each of the stack's ports free, unless given in `ports` (by the Settings name of the
    port; `temporal_port` for the gRPC address's)."""
    assert set(ports) <= set(PORTS), f"not a port of the stack: {set(ports) - set(PORTS)}"

    def port(name: str) -> int:
        return ports.get(name) or free_port()

    return Settings(
        data_dir=data_dir,
        database_url=None,
        temporal_address=f"127.0.0.1:{port('temporal_port')}",
        temporal_ui_port=port("temporal_ui_port"),
        api_port=port("api_port"),
        codec_server_port=port("codec_server_port"),
        api_metrics_port=port("api_metrics_port"),
        worker_metrics_port=port("worker_metrics_port"),
    )
