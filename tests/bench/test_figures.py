"""A benchmark's figures: min / median / max of its repeats, a table a person reads, and JSON."""

import json
from pathlib import Path

import pytest

from bench.figures import Report, Row, Spread


def test_a_spread_is_the_min_median_and_max_of_its_samples() -> None:
    assert Spread.of([3.0, 1.0, 2.0]) == Spread(1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match="at least one sample"):
        Spread.of([])


def test_the_table_shows_each_row_and_whether_its_goal_is_met(tmp_path: Path) -> None:
    report = Report("starts", "Start rate")
    report.add(Row("API / raw", "ratio", Spread.of([0.8, 0.9, 1.0]), goal=">= 0.9", met=True, digits=2))
    report.add(Row("API", "starts/s", Spread.of([10.0, 12.0, 11.0])))
    report.notes.append("file-backed dev server")
    table = report.table()
    assert "| API / raw | ratio    | 0.90 (0.80 to 1.00) | >= 0.9 | yes |" in table
    assert "11.0 (10.0 to 12.0)" in table and "- file-backed dev server" in table
    written = json.loads(report.write(tmp_path).read_text())
    assert written["rows"][0]["spread"] == {"min": 0.8, "median": 0.9, "max": 1.0}
    assert written["repeats"] == 3 and written["machine"]["cpus"] >= 1
