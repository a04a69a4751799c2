"""The version of the code that reads a pathway's history as its view: a hash of every source file of the
packages that build it (`domain/`: the view's model and what fills it; `workflows/`: the workflows, their
queries and the reading of a child's part).

The worker answers a read with the version it runs (the pathway's `versioned_view` query), and the API keeps
a read copy under that version and serves it only to readers of its own (api/read_copy.py). So after a deploy
each pathway's first read queries again, and while old and new workers run side by side, a view an old
worker answered is never served as the new code's. Computed once, at import, outside any workflow (the
workflows import it passed through).
"""

import hashlib
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "workflows")


def code_version(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> str:
    """A hash of the packages' Python sources, by path and content."""
    digest = hashlib.sha256()
    hashed = 0
    for package in packages:
        for source in sorted((root / package).rglob("*.py")):
            digest.update(source.relative_to(root).as_posix().encode() + b"\0")
            digest.update(source.read_bytes() + b"\0")
            hashed += 1
    if not hashed:  # installed without sources (bytecode only): every build would read as one version
        raise RuntimeError(f"no Python sources of {', '.join(packages)} under {root} to version the view by")
    return digest.hexdigest()[:16]


VIEW_CODE_VERSION = code_version()
