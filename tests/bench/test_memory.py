"""The memory benchmark, on a few pathways: the worker's memory with none open and with them open, parked at
their MRI review, and the rows of its table."""

from bench.memory import Reading, Run, measure, report_of


async def test_the_worker_memory_is_read_with_none_and_with_the_pathways_open() -> None:
    run = await measure([20])
    assert run.baseline.rss > 0 and run.open[20].rss > 0
    report = report_of([run], [20])
    rows = {row.name: row for row in report.rows}
    for name in (
        "worker RSS, no pathway open",
        "worker RSS, 20 open",
        "worker RSS at 10,000 open (linear)",
    ):
        assert rows[name].spread.median > 0
    assert "RSS per pathway, 20 open" in rows
    assert rows["worker RSS at 10,000 open (linear)"].met is not None
    assert any("max_cached_workflows" in note for note in report.notes)


def test_at_ten_thousand_open_the_goal_is_judged_on_the_measured_figure_not_a_line() -> None:
    mib = 2**20
    run = Run(
        baseline=Reading(rss=100 * mib, uss=None),
        open={1_000: Reading(rss=250 * mib, uss=None), 10_000: Reading(rss=400 * mib, uss=None)},
        seconds_to_park={1_000: 30.0, 10_000: 300.0},
    )
    rows = {row.name: row for row in report_of([run], [1_000, 10_000]).rows}
    measured = rows["worker RSS at 10,000 open (measured)"]
    assert (measured.spread.median, measured.met) == (400, True)
    assert "worker RSS at 10,000 open (linear)" not in rows
