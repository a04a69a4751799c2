"""The admin command line: `dvr-admin <group> <command>` (the console script), or `python -m admin ...`.

Each group of commands is a typer app in a module of its own, added here with `app.add_typer`:
- `keys` (admin/keys.py): API keys, their scopes and clinic sites.
- `calendar` (admin/calendar.py): load a clinic's calendar from its file.
- `patient` (admin/patients.py): show a pathway's patient to a staff member who must call (audited).
- `audit` (admin/audit_export.py): export the audit log for a period.
- `dashboard` (admin/dashboard.py): the Temporal UI's filter links for staff.

A group's commands reach the application database with `admin.database.connected()` (the one the API and
the worker use, found the same way), write the audit log as `admin.actor.cli_actor()`, and fail by raising
`AdminError` (admin/errors.py) with one line that says what to do. Whatever fails, the user sees one plain
line on stderr, `error: ...`, and a non-zero status: 1 for a command that failed, 2 for a command line typed
wrong. No stack trace (nor its local variables, which may hold a key) is printed for either.
"""

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from admin import audit_export, calendar, dashboard, keys, patients


class _OneLineErrors(TyperGroup):
    """Errors as one plain line, instead of click's usage block or typer's rich panels."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(
                args, prog_name, complete_var, False, windows_expand_args=windows_expand_args, **extra
            )
            code = result if isinstance(result, int) else 0
        except typer.TyperException as err:
            # A group run without a command shows its help (as typer does, recognised by name, cf. its
            # rich_utils); every other error is one line.
            if type(err).__name__ == "NoArgsIsHelpError":
                typer.echo(err.format_message(), err=True)
            else:
                typer.echo(f"error: {err.format_message()}", err=True)
            code = err.exit_code
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            code = 1
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    name="dvr-admin",
    cls=_OneLineErrors,
    help="Administer the DVR Pathway Orchestrator: API keys, calendars, patients to call, audit, dashboard.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(keys.app, name="keys")
app.add_typer(calendar.app, name="calendar")
app.add_typer(patients.app, name="patient")
app.add_typer(audit_export.app, name="audit")
app.add_typer(dashboard.app, name="dashboard")


def main() -> None:
    app(prog_name="dvr-admin")
