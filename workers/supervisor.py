"""Keeping the local stack's processes running: each restarted with a back-off whenever it exits.

`Supervised` starts a command, and each time its process exits (crashed, killed, or ended on its own) starts
it again after a delay that doubles from `Backoff.first` up to `Backoff.longest`; a process that stayed up for
`Backoff.reset_after` starts the count over. `stop()` ends the restarting and the process (SIGTERM, then
SIGKILL after a grace period), whatever moment of the cycle it comes at. Log lines name the process (its
role, e.g. "worker"), its pid and exit code, never its arguments or output. A process that exits once the
stack is shutting down (`shutdown` is set: Ctrl-C in a terminal signals every process of the group at once)
is logged as stopped, not as a crash to restart.

On Linux each child is started with PR_SET_PDEATHSIG, so it is killed when the supervisor dies, even by
SIGKILL, instead of living on without it (and keeping the stack's ports).

`keep_running` does the same for a server that is not a child of the stack (embedded PostgreSQL runs under
pg_ctl), by checking every few seconds whether it runs.
"""

import asyncio
import ctypes
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass

import structlog

log = structlog.get_logger()
PR_SET_PDEATHSIG = 1


def die_with_parent(on_death: signal.Signals = signal.SIGKILL) -> Callable[[], None] | None:
    """On Linux, the `preexec_fn` that has the child sent `on_death` (SIGKILL: killed) when the process that
    starts it dies; None elsewhere. The signal comes when the forking *thread* exits: asyncio forks from the
    event-loop thread, which lives as long as the supervisor."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def in_child() -> None:
        if libc.prctl(PR_SET_PDEATHSIG, on_death, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before prctl: no signal will come
            os._exit(1)

    return in_child


@dataclass(frozen=True)
class Backoff:
    """How long to wait before each restart, in seconds."""

    first: float = 1.0
    longest: float = 30.0
    reset_after: float = 60.0

    def next_delay(self, previous: float | None, up_for: float) -> float:
        """The delay before the next start, given the previous delay (None: no restart yet) and how long the
        process that just exited had been running."""
        if previous is None or up_for >= self.reset_after:
            return self.first
        return min(previous * 2, self.longest)


class Supervised:
    """One command kept running until `stop()`."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        umask: int = -1,
        backoff: Backoff = Backoff(),
        stop_timeout: float = 15.0,
        shutdown: asyncio.Event | None = None,
    ) -> None:
        self.name = name
        self._argv = list(argv)
        self._env = dict(env) if env is not None else None
        self._umask = umask
        self._backoff = backoff
        self._stop_timeout = stop_timeout
        self._process: asyncio.subprocess.Process | None = None
        self._started_at = 0.0
        self._stopping = asyncio.Event()
        self._shutdown = shutdown
        self._watch: asyncio.Task[None] | None = None
        self.exits = 0
        """How many times a process of this command has exited while it was meant to run."""

    @property
    def process(self) -> asyncio.subprocess.Process | None:
        """The current process (None before `start`); it may have exited and be waiting for its restart."""
        return self._process

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def _shutting_down(self) -> bool:
        return self._shutdown is not None and self._shutdown.is_set()

    async def start(self) -> None:
        """Starts the process and the watch that restarts it."""
        assert self._watch is None, "started twice"
        self._process = await self._spawn()
        log.info("stack.process_started", process=self.name, pid=self._process.pid)
        self._watch = asyncio.create_task(self._restart_on_exit(), name=f"supervise {self.name}")

    async def stop(self) -> None:
        """Stops restarting, then stops the process: SIGTERM, and SIGKILL after the grace period."""
        self._stopping.set()
        if self._watch is not None:
            await self._terminate(self._process)  # wakes the watch if it waits on the process
            await self._watch
        await self._terminate(self._process)  # the one the watch started just before it saw the stop, if any

    async def _spawn(self) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            *self._argv, env=self._env, umask=self._umask, preexec_fn=die_with_parent()
        )
        self._started_at = asyncio.get_running_loop().time()
        return process

    async def _restart_on_exit(self) -> None:
        delay: float | None = None
        while True:
            assert self._process is not None
            code = await self._process.wait()
            if self._stopping.is_set() or self._shutting_down:  # stop() ends it, or finds it ended
                log.info("stack.process_stopped", process=self.name, pid=self._process.pid, exit_code=code)
                return
            self.exits += 1
            up_for = asyncio.get_running_loop().time() - self._started_at
            delay = self._backoff.next_delay(delay, up_for)
            log.warning(
                "stack.process_exited",
                process=self.name,
                pid=self._process.pid,
                exit_code=code,
                up_for_s=round(up_for, 1),
                restart_in_s=delay,
            )
            if await _set_within(self._stopping, delay) or self._shutting_down:
                return
            try:
                self._process = await self._spawn()
            except OSError as err:  # counts as one more exit, after a longer delay
                log.error("stack.restart_failed", process=self.name, error=type(err).__name__)
                self._started_at = asyncio.get_running_loop().time()
                continue
            log.warning("stack.process_restarted", process=self.name, pid=self._process.pid, exits=self.exits)
            if self._stopping.is_set():
                return  # stop() ends it

    async def _terminate(self, process: asyncio.subprocess.Process | None) -> None:
        if process is None or process.returncode is not None:
            return
        with suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=self._stop_timeout)
        except TimeoutError:
            log.warning("stack.process_killed", process=self.name, pid=process.pid)
            with suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def keep_running(
    name: str,
    is_running: Callable[[], bool],
    restart: Callable[[], object],
    stopping: asyncio.Event,
    *,
    backoff: Backoff = Backoff(),
    check_every: float = 2.0,
) -> None:
    """Until `stopping` is set: checks every `check_every` seconds that the server runs and, when it does not,
    calls `restart` (blocking; in a thread) after the back-off. A check or restart that fails is logged (the
    error's type only, never its text) and tried again at the next check. A restart under way when `stopping`
    is set is finished first, so whoever stops the server afterwards finds the one that runs."""
    loop = asyncio.get_running_loop()
    delay: float | None = None
    up_since = loop.time()
    while not await _set_within(stopping, check_every):
        try:
            running = await asyncio.to_thread(is_running)
        except Exception as err:  # whether it runs is unknown: the next check looks again
            log.error("stack.check_failed", process=name, error=type(err).__name__)
            continue
        if running:
            continue
        delay = backoff.next_delay(delay, loop.time() - up_since)
        log.warning("stack.process_exited", process=name, restart_in_s=delay)
        if await _set_within(stopping, delay):
            return
        try:
            await asyncio.to_thread(restart)
        except Exception as err:  # tried again at the next check
            log.error("stack.restart_failed", process=name, error=type(err).__name__)
            continue
        up_since = loop.time()
        log.warning("stack.process_restarted", process=name)


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    with suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)
    return event.is_set()
