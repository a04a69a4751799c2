"""The PostgreSQL proxy's outage: every connection through it is reset and counted, new ones are refused until
it is restored, and then they pass again (faults/proxy.py)."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from faults.proxy import PostgresProxy


@pytest.fixture
async def proxy(tmp_path: Path) -> AsyncIterator[PostgresProxy]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
        writer.close()

    socket = str(tmp_path / "pg.sock")
    upstream = await asyncio.start_unix_server(echo, socket)
    started = PostgresProxy(socket)
    await started.start()
    try:
        yield started
    finally:
        await started.stop()
        upstream.close()


async def _round_trip(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"select 1")
    await writer.drain()
    answer = await reader.readexactly(8)
    writer.close()
    return answer


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    await writer.drain()
    return await reader.readexactly(4)


async def test_an_outage_cuts_the_open_connections_refuses_new_ones_and_counts_them(
    proxy: PostgresProxy,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(b"ping")
    assert await reader.readexactly(4) == b"ping"

    await proxy.outage()

    assert proxy.cut == 1
    writer.write(b"ping")
    with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
        await _answer(reader, writer)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", proxy.port)

    await proxy.restore()
    assert await _round_trip(proxy.port) == b"select 1"
    assert proxy.cut == 1


async def test_a_connection_still_reaching_postgresql_when_the_outage_begins_is_cut_too(
    proxy: PostgresProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect = asyncio.open_unix_connection

    async def outage_meanwhile(path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        await proxy.outage()  # begins after the stack's connection was accepted, before it reached PostgreSQL
        return await connect(path)

    monkeypatch.setattr(asyncio, "open_unix_connection", outage_meanwhile)
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(b"ping")
    with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
        await _answer(reader, writer)
    assert proxy.cut == 1
