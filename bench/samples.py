"""Stack samples of a process, as py-spy records them (`--format raw`: one line per distinct stack, its frames
outermost first joined by `;`, then the number of samples that caught it), summed two ways: the share of the
samples each of the project's functions was on the stack for (inclusive: what it and its callees cost), and
the share each package was running its own code for (self: where the CPU itself went)."""

import re
from collections import Counter
from dataclasses import dataclass

OWN_PACKAGES = frozenset({"activities", "api", "config", "db", "delivery", "domain", "workflows"})
"""The project's packages whose functions are listed (`workers` is left out: its entry points hold every
sample)."""

NO_PYTHON_FRAME = "(no Python frame)"
"""Where a sample is charged whose stack had no Python frame py-spy could name. (Threads that never run
Python, such as the Temporal SDK's Rust core, are not sampled at all: the shares are of the Python threads'
samples, not of the process's CPU.)"""

_STDLIB = re.compile(r"/python3\.\d+/")


@dataclass(frozen=True)
class Share:
    name: str
    percent: float


@dataclass(frozen=True)
class Samples:
    total: int
    own: Counter[str]
    """Project functions (`function (path)`), by the samples they were on the stack for (once per stack)."""
    packages: Counter[str]
    """Packages (the first part of the leaf frame's path: `asyncpg`, `api`, `asyncio`), by the samples whose
    innermost frame was theirs."""

    def top_own(self, count: int) -> list[Share]:
        return self._shares(self.own, count)

    def top_packages(self, count: int) -> list[Share]:
        return self._shares(self.packages, count)

    def _shares(self, counter: Counter[str], count: int) -> list[Share]:
        if not self.total:
            return []
        return [Share(name, 100 * n / self.total) for name, n in counter.most_common(count)]


def read_samples(raw: str) -> Samples:
    """Sums py-spy's raw output; a line that is not `stack count` is refused with its number."""
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            raise ValueError(f"line {number} of the samples is not `frames count`")
        count = int(count_text)
        total += count
        frames = [_parse(frame) for frame in stack.split(";") if frame]
        placed = [(function, path) for function, path in frames if path]
        packages[_package(placed[-1][1]) if placed else NO_PYTHON_FRAME] += count
        for key in {f"{function} ({path})" for function, path in placed if _package(path) in OWN_PACKAGES}:
            own[key] += count
    return Samples(total, own, packages)


def _parse(frame: str) -> tuple[str, str]:
    """`function (path:line)` as (function, path); a frame without a path (a thread's name) has path ''.
    A Python function's name has no space, so the path is what follows the first ` (`, whatever it holds."""
    function, opening, rest = frame.partition(" (")
    if not opening or not rest.endswith(")"):
        return frame, ""
    path, _, line = rest[:-1].rpartition(":")
    return function, path if line.isdigit() and path else rest[:-1]


def _package(path: str) -> str:
    """`asyncpg/connection.py` is asyncpg's, `selectors.py` the module `selectors`'s, `<frozen runpy>` its
    own; a full path (py-spy could not shorten it) is read from its last `site-packages/` or `pythonX.Y/`."""
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in path:
            path = path.rpartition(marker)[2]
            break
    else:
        stdlib = _STDLIB.search(path)
        if stdlib:
            path = path[stdlib.end() :]
    first = path.split("/", 1)[0]
    return first.removesuffix(".py")
