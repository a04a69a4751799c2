"""The pathways' read copies (migration 025, api/read_copy.py): one row a pathway, its last view read (as an
encoded payload: encrypted by the payload codec), with the places in history it was read at."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from db.pool import Queryable


@dataclass(frozen=True)
class Place:
    """Where a workflow's history stands: its run, and how many events it has."""

    run_id: str
    length: int


@dataclass(frozen=True)
class ViewCopy:
    place: Place
    child_id: str | None
    child_place: Place | None
    version: str
    """The version of the view it was read as (api/read_copy.py VIEW_VERSION)."""
    payload: bytes
    """The view, encoded by the payload converter and codec (a serialized Payload)."""
    closed_at: datetime | None = None
    """When the pathway closed, as Temporal described it (its retention counts from then)."""


async def fetch_copy(conn: Queryable, pathway_id: str) -> ViewCopy | None:
    row = await conn.fetchrow(
        "select run_id, history_length, child_id, child_run_id, child_history_length, view_version,"
        " view_payload, closed_at from pathway_view_copies where pathway_id = $1",
        pathway_id,
    )
    if row is None:
        return None
    child_place = None
    if row["child_run_id"] is not None:
        child_place = Place(row["child_run_id"], row["child_history_length"])
    return ViewCopy(
        place=Place(row["run_id"], row["history_length"]),
        child_id=row["child_id"],
        child_place=child_place,
        version=row["view_version"],
        payload=bytes(row["view_payload"]),
        closed_at=row["closed_at"],
    )


# A copy read further into the same run's history is not replaced by one read before it (two misses racing);
# another run's, the same place with a child's history further on, or another version's, is.
_STORE = (
    "insert into pathway_view_copies"
    " (pathway_id, run_id, history_length, child_id, child_run_id, child_history_length,"
    " view_version, view_payload, closed_at)"
    " values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    " on conflict (pathway_id) do update set run_id = excluded.run_id,"
    " history_length = excluded.history_length, child_id = excluded.child_id,"
    " child_run_id = excluded.child_run_id, child_history_length = excluded.child_history_length,"
    " view_version = excluded.view_version, view_payload = excluded.view_payload,"
    " closed_at = excluded.closed_at, stored_at = now()"
    " where pathway_view_copies.run_id <> excluded.run_id"
    " or pathway_view_copies.view_version <> excluded.view_version"
    " or pathway_view_copies.history_length < excluded.history_length"
    " or (pathway_view_copies.history_length = excluded.history_length"
    " and (pathway_view_copies.child_run_id is distinct from excluded.child_run_id"
    " or pathway_view_copies.child_history_length < excluded.child_history_length))"
)


async def store_copy(conn: Queryable, pathway_id: str, copy: ViewCopy) -> None:
    child = copy.child_place
    await conn.execute(
        _STORE,
        pathway_id,
        copy.place.run_id,
        copy.place.length,
        copy.child_id,
        None if child is None else child.run_id,
        None if child is None else child.length,
        copy.version,
        copy.payload,
        copy.closed_at,
    )


async def drop_copy(conn: Queryable, pathway_id: str) -> None:
    """Forgets a pathway's copy (Temporal no longer has the pathway, or the copy no longer decodes)."""
    await conn.execute("delete from pathway_view_copies where pathway_id = $1", pathway_id)


async def purge_copies(conn: Queryable, retention: timedelta) -> int:
    """Deletes the copies of pathways closed longer ago than `retention` (Temporal has deleted, or is about
    to delete, their histories), and of open ones whose copy was last stored as long ago (a copy is only a
    cache: the next read stores it again); returns how many."""
    deleted = await conn.fetchval(
        "with gone as (delete from pathway_view_copies"
        " where coalesce(closed_at, stored_at) < now() - $1::interval returning 1)"
        " select count(*) from gone",
        retention,
    )
    return int(deleted)
