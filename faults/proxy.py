"""A small TCP proxy between the stack and PostgreSQL: 127.0.0.1:<port> to the embedded server's unix
socket. `outage()` stands for PostgreSQL stopped: every open connection is reset and new ones are refused (the
port closed) until `restore()`."""

import asyncio
import contextlib

from tests.integration.processes import free_port


class PostgresProxy:
    def __init__(self, unix_socket: str) -> None:
        self._unix_socket = unix_socket
        self.port = free_port()  # chosen now, bound at start(): tests/integration/processes.py says why
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def outage(self) -> None:
        """Closes the port and resets every connection through it."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._open):
            transport = writer.transport
            transport.abort()
        self._open.clear()

    async def restore(self) -> None:
        await self.start()

    async def stop(self) -> None:
        await self.outage()
        for pipe in list(self._pipes):
            pipe.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(self._unix_socket)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, up_writer}
        pipes = [
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ]
        self._pipes.update(pipes)
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for pipe in pipes:
            pipe.cancel()
            self._pipes.discard(pipe)
        for end in (writer, up_writer):
            self._open.discard(end)
            end.transport.abort()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
