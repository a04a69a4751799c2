"""The pools skip asyncpg's reset query on release (db/pool.py), which is safe only while no statement leaves
session state on a connection: this holds every SQL text in the application to that."""

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = (
    "activities",
    "admin",
    "api",
    "codec_server",
    "config",
    "db",
    "delivery",
    "domain",
    "workers",
    "workflows",
)

# A statement that changes the session: SET (not SET LOCAL, which ends with its transaction), RESET, LISTEN,
# a session-level advisory lock, a declared cursor (one WITH HOLD outlives its transaction).
_SESSION_STATE = re.compile(
    r"^\s*(set\s+(session\s+)?[a-z_.]+\s*(=|to\s)|reset\s+[a-z_.]+\s*;?\s*$|listen\s|declare\s)"
    r"|pg_(try_)?advisory_lock",
    re.IGNORECASE,
)
# Held and let go on one plain connection of its own, in a `finally` (also when a test migrates through a
# pool's connection).
_ALLOWED = {("db/migrate.py", "select pg_advisory_lock($1)")}


def _sql_texts() -> list[tuple[str, str]]:
    texts = []
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    texts.append((str(path.relative_to(REPO)), node.value))
        for path in (REPO / package).rglob("*.sql"):
            texts.extend((str(path.relative_to(REPO)), line) for line in path.read_text().splitlines())
    return texts


def test_no_statement_leaves_session_state() -> None:
    found = [
        (where, text)
        for where, text in _sql_texts()
        if _SESSION_STATE.search(text) and (where, text) not in _ALLOWED
    ]
    assert found == []


def test_the_check_sees_session_state() -> None:
    for text in ("SET statement_timeout = 0", "reset all", "LISTEN wake", "select pg_advisory_lock(1)"):
        assert _SESSION_STATE.search(text)
    for text in ("set local lock_timeout = '1s'", "update t set a = 1", "select pg_advisory_xact_lock(1)"):
        assert not _SESSION_STATE.search(text)
