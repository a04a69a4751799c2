"""`dvr-admin audit export --since --until [--format jsonl|csv] [--output FILE]`: the audit log of a period.

The same entries as `GET /v1/audit` (db/audit.py: one snapshot, oldest first), as JSON lines or CSV (`detail`
as JSON text), on stdout or into a new file only its owner can read: entries name patients by ref and may
hold a staff member's reason, so the export is kept like the database it came from. A file is written whole
or not at all (a temporary file beside it takes its name once complete), so a failed export leaves nothing in
the way of trying again. The export itself is audited first (`audit.export`, as `cli:<os user>`, with its
period).
"""

import asyncio
import csv
import errno
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from admin.actor import cli_actor
from admin.database import connected
from admin.errors import AdminError
from db import audit
from domain.audit_period import period_problem

app = typer.Typer(help="The audit log: export it for a period.", no_args_is_help=True)

COLUMNS = ("id", "at", "actor", "action", "patient_ref", "pathway_id", "detail")


class Format(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


@app.callback()
def _group() -> None:
    # A group, even with one command: `dvr-admin audit export`.
    pass


def _instant(text: str) -> datetime:
    """`2026-01-01` (midnight UTC) or an ISO 8601 moment with its offset (`2026-01-01T09:00-07:00`)."""
    try:
        if len(text) == len("2026-01-01"):
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 moment") from None
    if moment.tzinfo is None:
        raise typer.BadParameter(f"{text!r} has no offset: add one (Z for UTC), or give a date")
    return moment


@app.command()
def export(
    since: Annotated[
        datetime, typer.Option(parser=_instant, metavar="WHEN", help="From (a date: 00:00 UTC).")
    ],
    until: Annotated[datetime, typer.Option(parser=_instant, metavar="WHEN", help="Up to, not including.")],
    fmt: Annotated[Format, typer.Option("--format", help="JSON lines or CSV.")] = Format.JSONL,
    output: Annotated[
        Path | None, typer.Option("--output", help="A new file, readable by you only (default: stdout).")
    ] = None,
) -> None:
    """Export the audit entries of [since, until), at most 366 days and ended 5 minutes ago or more, oldest
    first (the export is audited)."""
    problem = period_problem(since, until)
    if problem is not None:
        raise AdminError(problem)
    with _opened(output) as out:
        count = asyncio.run(_export(since, until, fmt, out))
    typer.echo(f"{count} audit entries from {since.isoformat()} until {until.isoformat()}", err=True)


async def _export(since: datetime, until: datetime, fmt: Format, out: TextIO) -> int:
    count = 0
    writer = csv.writer(out, lineterminator="\n") if fmt == Format.CSV else None
    if writer is not None:
        writer.writerow(COLUMNS)
    async with connected() as conn:
        await audit.record(
            conn,
            actor=cli_actor(),
            action="audit.export",
            detail={"via": "dvr-admin audit export", "since": since.isoformat(), "until": until.isoformat()},
        )
        async for entry in audit.entries_between(conn, since, until):
            line = entry.as_json()
            if writer is None:
                out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            else:
                line["detail"] = json.dumps(line["detail"], ensure_ascii=False, separators=(",", ":"))
                writer.writerow(["" if line[column] is None else line[column] for column in COLUMNS])
            count += 1
    return count


@contextmanager
def _opened(output: Path | None) -> Iterator[TextIO]:
    """stdout, or `output` written whole or not at all: the export goes to a temporary file beside it (only
    its owner can read it) that takes the name once complete, never over an existing file; on any failure
    it is removed, so the same name can be tried again."""
    if output is None:
        yield sys.stdout
        return
    if os.path.lexists(output):
        raise AdminError(f"{output} exists: name a new file")
    try:
        fd, partial = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".partial")
    except OSError as err:
        raise AdminError(f"cannot create {output}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        _take_name(partial, output)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(partial)


def _take_name(partial: str, output: Path) -> None:
    """Gives the complete export its name, unless a file took it meanwhile."""
    try:
        os.link(partial, output)  # unlike a rename, never replaces a file
    except FileExistsError:
        raise AdminError(f"{output} exists: name a new file") from None
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise AdminError(f"cannot create {output}: {err.strerror}") from None
        # A file system without hard links: a rename, after checking the name is still free.
        if os.path.lexists(output):
            raise AdminError(f"{output} exists: name a new file") from None
        try:
            os.rename(partial, output)
        except OSError as failed:
            raise AdminError(f"cannot create {output}: {failed.strerror}") from None
