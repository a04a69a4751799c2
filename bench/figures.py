"""Figures of a benchmark: each measured `REPEATS` times, reported as min / median / max, printed as a table
and written as JSON (bench/results/<name>.json, not committed: the figures are the machine's)."""

import json
import platform
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

REPEATS = 3
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Spread:
    """One figure over its repeats."""

    min: float
    median: float
    max: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> "Spread":
        if not samples:
            raise ValueError("a figure needs at least one sample")
        return cls(min(samples), statistics.median(samples), max(samples))

    def show(self, digits: int = 1) -> str:
        return f"{self.median:.{digits}f} ({self.min:.{digits}f} to {self.max:.{digits}f})"


@dataclass(frozen=True)
class Row:
    """A line of the table: what was measured, its unit, its spread and, for a ratio, the goal it meets."""

    name: str
    unit: str
    spread: Spread
    goal: str = ""
    met: bool | None = None
    digits: int = 1


@dataclass
class Report:
    """A benchmark's table: rows in the order measured, and notes (what saturated, the settings used)."""

    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def table(self) -> str:
        header = ("figure", "unit", "median (min to max)", "goal", "met")
        lines = [
            (
                r.name,
                r.unit,
                r.spread.show(r.digits),
                r.goal,
                "" if r.met is None else ("yes" if r.met else "NO"),
            )
            for r in self.rows
        ]
        widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=True)]

        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        out = [f"## {self.title}", "", line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        out += [line(cells) for cells in lines]
        out += [""] + [f"- {note}" for note in self.notes]
        return "\n".join(out)

    def write(self, directory: Path = RESULTS) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.name}.json"
        document = {
            "name": self.name,
            "title": self.title,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "repeats": REPEATS,
            "rows": [asdict(row) for row in self.rows],
            "notes": self.notes,
        }
        path.write_text(json.dumps(document, indent=2) + "\n")
        return path

    def publish(self) -> None:
        """Prints the table and writes the JSON beside it."""
        print(self.table())
        print(f"\n(written to {self.write()})")


def machine() -> dict[str, object]:
    """What the figures came from."""
    return {
        "cpus": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
