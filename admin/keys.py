"""`dvr-admin keys`: create, list, rotate and revoke the API keys of upstream systems, with their scopes and
the clinic sites they are limited to.

A key is shown once, when it is created or rotated: alone on stdout, so it can be piped into a secret store;
what else a command says goes to stderr. Only the key's hash is stored (db/api_clients.py). Every change is
written to the audit log as `cli:<os user>`, with the client's name, scopes and sites, never key material.
Names are never reused, since the audit log names clients: a new key for a client is `rotate`, and a revoked
client stays revoked. The `bootstrap` client belongs to the local stack, which installs it at every start.
"""

import asyncio
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

import typer

from admin.actor import cli_actor
from admin.database import connected
from admin.errors import AdminError
from db import audit
from db.api_clients import (
    ALL_SCOPES,
    ClientRecord,
    add_client,
    all_clients,
    find_client,
    new_api_key,
    replace_key,
    revoke_client,
)
from db.bootstrap import BOOTSTRAP_CLIENT
from db.clinic_sites import SITE_PATTERN, known_sites
from db.pool import Connection

app = typer.Typer(
    help="API keys: create, list, rotate and revoke them, with scopes and clinic sites.", no_args_is_help=True
)

# The name is the audit log's actor for every request the key makes: short, plain, no spaces.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}\Z")

Name = Annotated[
    str, typer.Argument(metavar="NAME", help="The client's name: the audit log's actor for its requests.")
]


@app.command()
def create(
    name: Name,
    scope: Annotated[
        list[str],
        typer.Option("--scope", metavar="SCOPE", help=f"A scope to grant (repeat): {', '.join(ALL_SCOPES)}."),
    ],
    site: Annotated[
        list[str] | None,
        typer.Option(
            "--site", metavar="SITE", help="Limit the key to this clinic site (repeat); none: every site."
        ),
    ] = None,
) -> None:
    """Create an API client and print its new key, once, alone on stdout."""
    _check_name(name)
    scopes = _checked_scopes(scope)
    sites = tuple(dict.fromkeys(site)) if site else None
    key = asyncio.run(_create(name, scopes, sites))
    typer.echo(key)
    where = ", ".join(sites) if sites else "every site"
    typer.echo(
        f"created {name} ({', '.join(scopes)}; {where}); the key is shown once: store it now", err=True
    )


@app.command("list")
def list_clients(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
) -> None:
    """List the API clients: name, scopes, sites, created and revoked (never keys or their hashes)."""
    records = asyncio.run(_list())
    if as_json:
        typer.echo(json.dumps([_as_json(record) for record in records], indent=2))
    else:
        typer.echo(_table(records))


@app.command()
def rotate(name: Name) -> None:
    """Give an API client a new key (printed once, alone on stdout); its old key stops working at once."""
    _refuse_bootstrap(name, "rotate")
    key = asyncio.run(_rotate(name))
    typer.echo(key)
    typer.echo(f"rotated {name}: the old key no longer works; the new key is shown once", err=True)


@app.command()
def revoke(name: Name) -> None:
    """Revoke an API client: its key stops working at once. Revoking a revoked client changes nothing."""
    _refuse_bootstrap(name, "revoke")
    revoked_at, now = asyncio.run(_revoke(name))
    if now:
        typer.echo(f"revoked {name}: its key no longer works", err=True)
    else:
        typer.echo(f"{name} was already revoked at {_when(revoked_at)}", err=True)


async def _create(name: str, scopes: tuple[str, ...], sites: tuple[str, ...] | None) -> str:
    key = new_api_key()
    async with connected() as conn, conn.transaction():
        if sites is not None:
            await _check_sites(conn, sites)
        if not await add_client(conn, name, key, scopes, sites):
            raise _taken(await find_client(conn, name), name)
        await _audit(conn, "api_client.create", name, scopes=list(scopes), clinic_sites=sites)
    return key


async def _list() -> list[ClientRecord]:
    async with connected() as conn:
        return await all_clients(conn)


async def _rotate(name: str) -> str:
    key = new_api_key()
    async with connected() as conn, conn.transaction():
        if not await replace_key(conn, name, key):
            raise _not_active(await find_client(conn, name), name)
        await _audit(conn, "api_client.rotate", name)
    return key


async def _revoke(name: str) -> tuple[datetime, bool]:
    """When the client was revoked, and whether it was this call that revoked it."""
    async with connected() as conn, conn.transaction():
        revoked_at = await revoke_client(conn, name)
        if revoked_at is not None:
            await _audit(conn, "api_client.revoke", name)
            return revoked_at, True
        record = await find_client(conn, name)
        if record is None:
            raise _unknown(name)
        assert record.revoked_at is not None  # not active (above), so revoked
        return record.revoked_at, False


async def _audit(conn: Connection, action: str, name: str, **detail: object) -> None:
    await audit.record(conn, actor=cli_actor(), action=action, detail={"client": name, **detail})


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise AdminError(
            f"{name!r} is not a client name: 1 to 64 letters, digits and . _ : @ -, starting with a letter"
            " or digit"
        )
    if name == BOOTSTRAP_CLIENT:
        raise AdminError(f"{name!r} is the local stack's own client; choose another name")


def _checked_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    unknown = [scope for scope in scopes if scope not in ALL_SCOPES]
    if unknown:
        raise AdminError(f"unknown scope {unknown[0]!r}; the scopes are {', '.join(ALL_SCOPES)}")
    return tuple(dict.fromkeys(scopes))


async def _check_sites(conn: Connection, sites: Sequence[str]) -> None:
    known = await known_sites(conn)
    for site in sites:
        if not SITE_PATTERN.match(site) or site not in known:
            raise AdminError(f"unknown clinic site {site!r}; the clinics are {', '.join(known) or 'none'}")


def _refuse_bootstrap(name: str, verb: str) -> None:
    if name == BOOTSTRAP_CLIENT:
        # The stack installs it again at every start: a rotation or revocation here would not last.
        raise AdminError(
            f"cannot {verb} {name!r}: the local stack installs it at every start from DVR_BOOTSTRAP_API_KEY"
            " or its data folder's bootstrap-api-key; change that and restart"
        )


def _taken(record: ClientRecord | None, name: str) -> AdminError:
    if record is not None and record.revoked_at is not None:
        return AdminError(
            f"{name!r} was revoked at {_when(record.revoked_at)} and names are not reused (the audit log"
            " refers to it); choose another name"
        )
    return AdminError(
        f"an API client named {name!r} exists; `dvr-admin keys rotate {name}` gives it a new key,"
        f" `dvr-admin keys revoke {name}` withdraws it"
    )


def _not_active(record: ClientRecord | None, name: str) -> AdminError:
    if record is None:
        return _unknown(name)
    return AdminError(
        f"{name!r} was revoked at {_when(record.revoked_at)}; create a client with another name"
    )


def _unknown(name: str) -> AdminError:
    return AdminError(f"no API client is named {name!r}; `dvr-admin keys list` shows them")


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _as_json(record: ClientRecord) -> dict[str, object]:
    return {
        "name": record.name,
        "scopes": list(record.scopes),
        "clinic_sites": None if record.clinic_sites is None else list(record.clinic_sites),
        "created_at": record.created_at.isoformat(),
        "revoked_at": None if record.revoked_at is None else record.revoked_at.isoformat(),
    }


def _table(records: Sequence[ClientRecord]) -> str:
    rows = [("NAME", "SCOPES", "SITES", "CREATED", "REVOKED")]
    rows += [
        (
            r.name,
            ",".join(r.scopes),
            "all" if r.clinic_sites is None else ",".join(r.clinic_sites),
            _when(r.created_at),
            _when(r.revoked_at),
        )
        for r in records
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )
