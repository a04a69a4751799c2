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
        self._downstream: set[asyncio.StreamWriter] = set()
        """The stack's ends of the connections (`_open` holds PostgreSQL's ends too)."""
        self._pipes: set[asyncio.Task[None]] = set()
        self.cut = 0
        """Connections from the stack reset by an outage: none, and the outage hit nothing."""

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def outage(self) -> None:
        """Closes the port and resets every connection through it."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self.cut += len(self._open & self._downstream)
        for writer in list(self._open):
            transport = writer.transport
            transport.abort()
        self._open.clear()
        if server is not None:  # after the resets: from Python 3.12 on it waits for the connections to end
            await server.wait_closed()

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
        if self._server is None:  # an outage began while this one was being connected: it is cut too
            self.cut += 1
            writer.transport.abort()
            up_writer.transport.abort()
            return
        self._open |= {writer, up_writer}
        self._downstream.add(writer)
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
        self._downstream.discard(writer)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
