"""The whole local stack in the foreground (`make run`): a process supervisor.

It starts PostgreSQL (embedded, unless `DATABASE_URL` names one) and has db/bootstrap.py prepare it
(migrations, the demo clinic, the bootstrap API key), makes sure the payload codec has a key (one generated
into the data folder on the first run when none is configured: config/codec_keys.py), then starts the
Temporal dev server with its UI, one worker, the API and the codec server that the UI decodes through, waits
until the API and the codec server answer, and prints where everything is (where the keys are, never a key).
From then on it keeps them running: a process that exits is started again with a back-off
(workers/supervisor.py), and so is an embedded PostgreSQL that died. Ctrl-C (SIGINT or SIGTERM) stops
everything it started, whatever it restarted meanwhile. A process that exits during start-up fails the start
(a broken setting) instead.

Before it starts anything (workers/preflight.py), the stack checks that its ports (Temporal gRPC, Temporal
UI, API, codec server) are free: a port in use, most often by another stack or by the processes of one that
was killed, fails the start at once.
During start-up, a server counts as ready only when the process the stack started is the one listening on
its port and answering there, never whichever process answers on that port. Each child dies with the
stack, even when the stack is killed with SIGKILL (workers/supervisor.py); embedded PostgreSQL, a daemon,
lives on and is taken over by the next start.

The data folder (`DVR_DATA_DIR`) and every file in it are readable by their owner only: the dev server's
SQLite file holds every pathway's history, and the dev server runs with umask 077. The dev server's gRPC port
and Web UI have no authentication of their own, so the stack binds them to 127.0.0.1 only. The history they
show is encrypted; the codec server, also on 127.0.0.1 and answering CORS for the UI's origin alone, decrypts
it for a browser signed in on its page (codec_server/).
"""

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

import httpx
import psutil
import structlog

from config.codec_keys import CodecKeyError, ensure_local_key_file, load_codec_keys
from config.database import publish_embedded_url, withdraw_embedded_url
from config.logging import configure_logging
from config.settings import Settings
from config.temporal import connect
from db.bootstrap import key_location, prepare_database
from db.embedded import EmbeddedPostgres
from workers.dev_server import codec_endpoint, temporal_command, ui_origin
from workers.preflight import StackError, check_ports_free, secure_data_dir
from workers.stack_banner import banner
from workers.supervisor import Supervised, keep_running
from workers.worker import GRACEFUL_SHUTDOWN

log = structlog.get_logger()
STARTUP_TIMEOUT = 60.0
T = TypeVar("T")
WORKER_STOP_TIMEOUT = GRACEFUL_SHUTDOWN.total_seconds() + 5
"""SIGTERM to SIGKILL for the worker: longer than its own graceful shutdown."""
STACK_DEFAULTS = {
    "DVR_LOG_FORMAT": "console",  # read by a person at a terminal
    "DVR_API_METRICS_PORT": "9464",
    "DVR_WORKER_METRICS_PORT": "9465",
}
"""Settings `make run` gives itself and its processes unless the environment has them (an empty metrics port
turns that endpoint off)."""


class StopRequested(Exception):
    """Ctrl-C (or SIGTERM) came during start-up."""


async def unless_stopped(work: Awaitable[T], stopping: asyncio.Event) -> T:
    """The result of `work`, which is cancelled (StopRequested) if a stop is requested first."""
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait([task, stop], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if not task.done():
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        raise StopRequested
    return task.result()


def listens_on(process: Supervised, port: int) -> bool:
    """Whether `process` runs and is itself the one listening on `port`."""
    if process.process is None or not process.running:
        return False
    try:
        connections = psutil.Process(process.process.pid).net_connections(kind="inet")
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in connections)


async def start_temporal(
    settings: Settings, processes: list[Supervised], shutdown: asyncio.Event | None = None
) -> Supervised:
    """Starts the dev server (owner-only files) and waits until it answers, itself: a server of some other
    process answering on the port is not it. It is added to `processes` at once, so a failed start still
    gets stopped."""
    temporal = Supervised("temporal", temporal_command(settings), umask=0o077, shutdown=shutdown)
    processes.append(temporal)
    await temporal.start()
    port = int(settings.temporal_address.rpartition(":")[2])
    deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT
    while True:
        if temporal.exits or not temporal.running:
            raise StackError(
                f"the Temporal dev server exited; is {settings.temporal_address} or port"
                f" {settings.temporal_ui_port} in use?"
            )
        try:
            if listens_on(temporal, port):
                client = await connect(settings)
                await client.service_client.check_health()
                if listens_on(temporal, port):  # still ours: it did not exit meanwhile
                    return temporal
        except Exception:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise StackError("the Temporal dev server did not become ready")
        await asyncio.sleep(0.5)


def python_module(module: str) -> list[str]:
    """The command that runs `module` with this interpreter."""
    return [sys.executable, "-m", module]


async def start_python(
    name: str,
    module: str,
    env: dict[str, str],
    processes: list[Supervised],
    shutdown: asyncio.Event | None = None,
    stop_timeout: float = 15.0,
) -> None:
    process = Supervised(name, python_module(module), env=env, shutdown=shutdown, stop_timeout=stop_timeout)
    processes.append(process)
    await process.start()


async def wait_ready(settings: Settings, processes: list[Supervised]) -> None:
    """Waits until each HTTP server the stack started (the API, `api` in `processes`, on /readyz; the codec
    server, `codec`, on /healthz) answers 200, itself: another process answering on the port is not it."""
    servers = {
        "api": (settings.api_port, f"http://{settings.api_host}:{settings.api_port}/readyz"),
        "codec": (settings.codec_server_port, f"{codec_endpoint(settings)}/healthz"),
    }
    waiting = [(p, *servers[p.name]) for p in processes if p.name in servers]
    deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT
    async with httpx.AsyncClient() as http:
        while waiting:
            exited = [p.name for p in processes if p.exits or not p.running]
            if exited:
                raise StackError(f"{', '.join(exited)} exited during start-up (see the output above)")
            process, port, url = waiting[0]
            try:
                answered = listens_on(process, port) and (await http.get(url, timeout=2)).status_code == 200
            except httpx.HTTPError:
                answered = False
            if answered and listens_on(process, port):  # still ours: it did not exit meanwhile
                waiting.pop(0)
                continue
            if asyncio.get_running_loop().time() > deadline:
                raise StackError(f"{url} did not answer 200")
            await asyncio.sleep(0.5)


async def stop(processes: list[Supervised]) -> None:
    """Stops each process, the last started first (SIGTERM; SIGKILL after 15 seconds); one that fails to
    stop is logged, and the others are still stopped."""
    for process in reversed(processes):
        try:
            await process.stop()
        except Exception as err:
            log.error("stack.stop_failed", process=process.name, error=type(err).__name__)


async def shut_down(
    postgres_kept: asyncio.Task[None] | None,
    processes: list[Supervised],
    embedded: EmbeddedPostgres | None,
    data_dir: Path,
) -> None:
    """Stops everything the stack started, whatever failed before: the watch on PostgreSQL ends first (it
    finishes a restart under way, so the stop below finds that server; an error it died of is logged, not
    raised), then the processes, then PostgreSQL."""
    try:
        if postgres_kept is not None:
            await asyncio.wait([postgres_kept])
            if not postgres_kept.cancelled() and (err := postgres_kept.exception()) is not None:
                log.error("stack.watch_failed", process="postgres", error=type(err).__name__)
        await stop(processes)
    finally:
        if embedded is not None:
            withdraw_embedded_url(data_dir)
            embedded.stop()


async def run_stack(settings: Settings) -> int:
    try:
        check_ports_free(settings)
    except StackError as err:
        log.error("stack.failed", error=str(err))
        return 1
    secure_data_dir(settings.data_dir)
    try:
        ensure_local_key_file(settings)
        load_codec_keys(settings)  # keys that cannot be read fail the start here, not in every process
    except CodecKeyError as err:
        log.error("stack.failed", error=str(err))
        return 1
    processes: list[Supervised] = []
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Before anything starts: a stop that comes while the embedded PostgreSQL starts (seconds, on a new data
    # folder) waits for it, then stops it with the rest, instead of ending the stack and leaving it running.
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    embedded = None
    if settings.database_url:
        url, database = settings.database_url, "DATABASE_URL"
    else:
        embedded = EmbeddedPostgres(settings.data_dir / "postgres")
        secure_data_dir(settings.data_dir)  # run as root, pgserver opens the folders above its own to all
        url, database = embedded.url, f"embedded, data in {settings.data_dir / 'postgres'}"
    postgres_kept: asyncio.Task[None] | None = None
    try:
        await unless_stopped(
            prepare_database(
                url,
                settings.data_dir,
                settings.bootstrap_api_key,
                settings.relief_threshold,
                settings.profile,
            ),
            stopping,
        )
        if embedded is not None:
            publish_embedded_url(settings.data_dir, url)
            server = embedded

            def restart_postgres() -> None:
                server.ensure_running()
                secure_data_dir(settings.data_dir)

            postgres_kept = asyncio.create_task(
                keep_running("postgres", lambda: server.running, restart_postgres, stopping)
            )
        await unless_stopped(start_temporal(settings, processes, stopping), stopping)
        env = {**os.environ, "DATABASE_URL": url, "DVR_PROFILE": settings.profile}
        await start_python("worker", "workers.worker", env, processes, stopping, WORKER_STOP_TIMEOUT)
        await start_python("api", "workers.api_server", env, processes, stopping)
        codec_env = {**env, "DVR_CODEC_CORS_ORIGINS": settings.codec_cors_origins or ui_origin(settings)}
        await start_python("codec", "workers.codec_server", codec_env, processes, stopping)
        await unless_stopped(wait_ready(settings, processes), stopping)
        key_where = key_location(settings.data_dir, settings.bootstrap_api_key)
        print(banner(settings, key_where, database), flush=True)
        await stopping.wait()
        return 0
    except StopRequested:
        return 0
    except StackError as err:
        log.error("stack.failed", error=str(err))
        return 1
    finally:
        print("Stopping...", flush=True)
        stopping.set()
        await shut_down(postgres_kept, processes, embedded, settings.data_dir)


def main() -> None:
    for name, value in STACK_DEFAULTS.items():  # the children inherit them
        os.environ.setdefault(name, value)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    sys.exit(asyncio.run(run_stack(settings)))


if __name__ == "__main__":
    main()
