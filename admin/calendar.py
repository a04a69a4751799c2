"""`dvr-admin calendar load FILE [--dry-run]`: make a clinic's calendar the one its file describes.

The file (examples/calendar.yaml documents it) is checked whole before anything is written; every problem is
listed with its line and nothing changes. A valid file is written in one transaction (db/calendar_sync.py):
loading it again changes nothing, and a changed file changes only what differs. A load that changes anything
is audited as `cli:<os user>` with the clinic, the file's SHA-256 and what changed. `--dry-run` says what a
load would change and writes nothing.
"""

import asyncio
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from admin.actor import cli_actor
from admin.calendar_file import CalendarFileInvalid, read_calendar_file
from admin.database import connected
from admin.errors import AdminError
from db import audit
from db.calendar_review import REVIEW_REASON_WORDS, BookingToReview, bookings_to_review
from db.calendar_sync import CalendarChanges, CalendarConflict, apply_calendar
from domain.clinic_calendar import ClinicCalendar

app = typer.Typer(
    help="A clinic's calendar: resources, hours, appointment kinds, holidays, blocked time.",
    no_args_is_help=True,
)


class _DryRun(Exception):
    """Rolls the dry run's transaction back."""


@app.callback()
def _group() -> None:
    # A group, even with one command: `dvr-admin calendar load FILE`, room for more.
    pass


@app.command()
def load(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The calendar, YAML (examples/calendar.yaml).")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; write nothing.")] = False,
) -> None:
    """Make a clinic's calendar the one FILE describes (checked first; one transaction; audited)."""
    try:
        loaded = read_calendar_file(file)
    except CalendarFileInvalid as err:
        for problem in err.problems:
            typer.echo(str(problem), err=True)
        raise AdminError(f"{file.name}: {len(err.problems)} problem(s) above; nothing was loaded") from None
    changes, review = asyncio.run(_load(loaded.calendar, loaded.sha256, dry_run))
    site = loaded.calendar.clinic.site
    if not changes.any:
        typer.echo(f"{site}: the calendar already matches {file.name}; nothing changed")
    else:
        verb = "would change" if dry_run else "changed"
        typer.echo(f"{site}: {verb}:")
        for line in changes.lines():
            typer.echo(f"  {line}")
    if review:
        typer.echo(f"{len(review)} booked appointment(s) no longer fit the calendar;")
        typer.echo("a load never moves a booking: staff move these (change request on the pathway):")
        for booking in review:
            typer.echo(f"  {_booking(booking, loaded.calendar.zone)}")


async def _load(
    calendar: ClinicCalendar, sha256: str, dry_run: bool
) -> tuple[CalendarChanges, list[BookingToReview]]:
    site = calendar.clinic.site
    result: tuple[CalendarChanges, list[BookingToReview]] | None = None
    async with connected() as conn:
        try:
            async with conn.transaction():
                changes = await apply_calendar(conn, calendar)
                review = await bookings_to_review(conn, site)
                result = changes, review
                if dry_run:
                    raise _DryRun
                if changes.any:
                    await audit.record(
                        conn,
                        actor=cli_actor(),
                        action="calendar.load",
                        detail={"clinic_site": site, "file_sha256": sha256, "changes": changes.as_detail()},
                    )
        except _DryRun:
            pass
        except CalendarConflict as err:
            raise AdminError(f"{err}; nothing was loaded") from None
    assert result is not None
    return result


def _booking(booking: BookingToReview, zone: ZoneInfo) -> str:
    starts = booking.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    why = "; ".join(REVIEW_REASON_WORDS[reason] for reason in booking.reasons)
    return f"{starts}  {booking.kind}  {booking.pathway_id}  appointment {booking.appointment_id}  ({why})"
