"""How an admin command fails: one plain line on stderr and a non-zero exit status, never a stack trace."""

import typer


class AdminError(typer.TyperException):
    """A failure the user can act on. Its message is the whole explanation, on one line, and names no secret
    (no key, no database password); admin/cli.py shows it as `error: <message>` with exit status 1."""

    exit_code = 1
