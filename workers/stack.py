"""The whole local stack in the foreground (`make run`): a process supervisor.

It starts PostgreSQL (embedded, unless `DATABASE_URL` names one) and has db/bootstrap.py prepare it
(migrations, the demo clinic, the bootstrap API key), then starts the Temporal dev server with its UI, one
worker and the API, waits for `/readyz`, and prints where everything is. Ctrl-C stops everything it started;
if any process exits, the rest are stopped too."""

import asyncio
import os
import signal
import sys
from contextlib import suppress

import httpx
import structlog

from config.binaries import installed_binary
from config.logging import configure_logging
from config.settings import Settings
from config.temporal import connect, dev_server_search_attribute_flags
from db.bootstrap import key_location, prepare_database
from db.embedded import EmbeddedPostgres

log = structlog.get_logger()
STARTUP_TIMEOUT = 60.0


class StackError(Exception):
    pass


async def start_temporal(
    settings: Settings, processes: list[asyncio.subprocess.Process]
) -> asyncio.subprocess.Process:
    """Starts the dev server (added to `processes` at once, so a failed start still gets stopped)."""
    host, _, port = settings.temporal_address.rpartition(":")
    process = await asyncio.create_subprocess_exec(
        installed_binary("temporal"), "server", "start-dev",
        "--ip", host or "127.0.0.1", "--port", port,
        "--ui-port", str(settings.temporal_ui_port),
        "--db-filename", str(settings.data_dir / "temporal.sqlite"),
        "--namespace", settings.temporal_namespace,
        "--log-level", "warn",
        *dev_server_search_attribute_flags(),
    )  # fmt: skip
    processes.append(process)
    deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT
    while True:
        if process.returncode is not None:
            raise StackError(f"the Temporal dev server exited ({process.returncode}); is port {port} in use?")
        try:
            client = await connect(settings.temporal_address, settings.temporal_namespace)
            await client.service_client.check_health()
            return process
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise StackError("the Temporal dev server did not become ready") from None
            await asyncio.sleep(0.5)


async def start_python(module: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", module, env=env)


async def wait_ready(settings: Settings, processes: list[asyncio.subprocess.Process]) -> None:
    url = f"http://{settings.api_host}:{settings.api_port}/readyz"
    deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT
    async with httpx.AsyncClient() as http:
        while True:
            if any(p.returncode is not None for p in processes):
                raise StackError("a process of the stack exited during start-up")
            with suppress(httpx.HTTPError):
                if (await http.get(url)).status_code == 200:
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise StackError(f"{url} did not answer 200")
            await asyncio.sleep(0.5)


async def stop(processes: list[asyncio.subprocess.Process]) -> None:
    """SIGTERM each process (the last started first); SIGKILL any still running after 15 seconds."""
    for process in reversed(processes):
        if process.returncode is None:
            with suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                with suppress(ProcessLookupError):
                    process.kill()
                await process.wait()


def banner(settings: Settings, key_where: str, database: str) -> str:
    api = f"http://{settings.api_host}:{settings.api_port}"
    return "\n".join(
        [
            "",
            "DVR Pathway Orchestrator is running",
            f"  API            {api}   (docs: {api}/docs)",
            f"  Temporal UI    http://127.0.0.1:{settings.temporal_ui_port}",
            f"  Temporal gRPC  {settings.temporal_address}   task queue dvr-pathway",
            f"  PostgreSQL     {database}",
            f"  Profile        {settings.profile}",
            f"  API key        {key_where}",
            "  Ctrl-C stops everything.",
            "",
        ]
    )


async def run_stack(settings: Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    embedded = None
    if settings.database_url:
        url, database = settings.database_url, "DATABASE_URL"
    else:
        embedded = EmbeddedPostgres(settings.data_dir / "postgres")
        url, database = embedded.url, f"embedded, data in {settings.data_dir / 'postgres'}"
    processes: list[asyncio.subprocess.Process] = []
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await prepare_database(url, settings.data_dir, settings.bootstrap_api_key)
        await start_temporal(settings, processes)
        env = {**os.environ, "DATABASE_URL": url, "DVR_PROFILE": settings.profile}
        processes.append(await start_python("workers.worker", env))
        processes.append(await start_python("workers.api_server", env))
        await wait_ready(settings, processes)
        key_where = key_location(settings.data_dir, settings.bootstrap_api_key)
        print(banner(settings, key_where, database), flush=True)
        exits = [asyncio.ensure_future(p.wait()) for p in processes]
        stop_wait = asyncio.ensure_future(stopping.wait())
        await asyncio.wait([stop_wait, *exits], return_when=asyncio.FIRST_COMPLETED)
        code = 0 if stopping.is_set() else 1
        if code:
            log.error("stack.process_exited", hint="see the output above")
        return code
    except StackError as err:
        log.error("stack.failed", error=str(err))
        return 1
    finally:
        print("Stopping...", flush=True)
        await stop(processes)
        if embedded is not None:
            embedded.stop()


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    sys.exit(asyncio.run(run_stack(settings)))


if __name__ == "__main__":
    main()
