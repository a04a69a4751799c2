"""`dvr-admin dashboard links`: the Temporal UI's ready-made filters for staff, as of now, and the columns to
add (admin/dashboard_links.py holds them; README shows them for an example date)."""

import re
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from admin.dashboard_links import COLUMNS, filters, list_url
from admin.database import load_settings
from admin.errors import AdminError
from domain.referral import check_timezone

_SITE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}\Z")

app = typer.Typer(
    help="The Temporal UI as the staff dashboard: filter links and columns.", no_args_is_help=True
)


@app.callback()
def _group() -> None:
    # A group, even with one command: `dvr-admin dashboard links`.
    pass


@app.command()
def links(
    ui: Annotated[
        str | None, typer.Option("--ui", help="The Temporal UI's address (default: the local stack's).")
    ] = None,
    namespace: Annotated[
        str | None, typer.Option(help="Default: DVR_TEMPORAL_NAMESPACE, or default.")
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="Only this clinic's pathways.")] = None,
    timezone: Annotated[str, typer.Option(help='Where "this week" starts on Monday.')] = "America/Phoenix",
) -> None:
    """Print the staff's filter links as of now, then the columns to add to the UI's list."""
    settings = load_settings()
    try:
        zone = ZoneInfo(check_timezone(timezone))
    except ValueError as err:
        raise AdminError(str(err)) from None
    if site is not None and not _SITE.match(site):  # it goes into the query between quotes
        raise AdminError(f"{site!r} is not a clinic site")
    base = ui or f"http://127.0.0.1:{settings.temporal_ui_port}"
    for f in filters(datetime.now(UTC), zone, site):
        typer.echo(
            f"{f.title} ({f.meaning}):\n  {list_url(f.query, base, namespace or settings.temporal_namespace)}"
        )
    columns = ", ".join(name for name, _ in COLUMNS)
    typer.echo(f"\nColumns to add (Configure Columns, above the list): {columns}")
