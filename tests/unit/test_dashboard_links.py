"""The staff dashboard's filter links: README carries exactly the ones admin/dashboard_links.py builds, each
link opens the UI's workflow list with its query, and the dated ones follow the moment they are built for."""

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from admin.cli import app
from admin.dashboard_links import README_AS_OF, README_ZONE, filters, list_url, readme_table

README = Path(__file__).parents[2] / "README.md"
PHOENIX = ZoneInfo("America/Phoenix")


def _section() -> str:
    text = README.read_text()
    start = text.index("<!-- dashboard-links:start")
    start = text.index("\n", start) + 1
    return text[start : text.index("<!-- dashboard-links:end -->")]


def test_readme_carries_the_generated_table() -> None:
    assert _section() == readme_table() + "\n"


def test_readme_links_are_exactly_the_filters_and_each_opens_its_query() -> None:
    links = re.findall(r"\]\((http[^)]+)\)", _section())
    every = filters(README_AS_OF, README_ZONE)
    assert links == [list_url(f.query) for f in every if f.outcome is None] + [
        list_url(f.query) for f in every if f.outcome is not None
    ]
    for link, f in zip(
        links, [f for f in every if f.outcome is None] + [f for f in every if f.outcome], strict=True
    ):
        parts = urlsplit(link)
        assert (parts.scheme, parts.netloc, parts.path) == (
            "http",
            "127.0.0.1:8233",
            "/namespaces/default/workflows",
        )
        assert parse_qs(parts.query) == {"query": [f.query]}
        assert " " not in link and "'" not in link


def test_the_dated_filters_are_built_for_the_moment_given() -> None:
    thursday_evening = datetime(2026, 12, 10, 19, 30, tzinfo=PHOENIX)
    by_title = {f.title: f.query for f in filters(thursday_evening, PHOENIX, site="phoenix-main")}
    assert by_title["Waiting on a clinician, past due"].endswith("NextActionDue < '2026-12-11T02:30:00Z'")
    # This week began on Monday 7 December, 00:00 in Phoenix (07:00 UTC).
    assert "CloseTime >= '2026-12-07T07:00:00Z'" in by_title["Closed this week"]
    assert all(
        query.startswith("WorkflowType = 'PatientPathway' AND ClinicSite = 'phoenix-main' AND ")
        for query in by_title.values()
    )
    assert by_title["Closed this week: no_show"].endswith("AND PathwayOutcome = 'no_show'")


def test_the_command_prints_todays_links_for_another_ui_and_the_columns() -> None:
    result = CliRunner().invoke(
        app, ["dashboard", "links", "--ui", "https://temporal.clinic.example/", "--site", "tucson"]
    )
    assert result.exit_code == 0, result.output
    urls = [line.strip() for line in result.stdout.splitlines() if line.startswith("  ")]
    now = filters(datetime.now(UTC), PHOENIX, site="tucson")
    assert len(urls) == len(now)
    assert all(
        url.startswith("https://temporal.clinic.example/namespaces/default/workflows?query=") for url in urls
    )
    assert parse_qs(urlsplit(urls[0]).query)["query"] == [now[0].query]
    assert result.stdout.rstrip().endswith(
        "Columns to add (Configure Columns, above the list): PathwayStage, NextActionDue, NeedsAttention,"
        " PathwayOutcome, ClinicSite, BlockResult"
    )
    refused = CliRunner().invoke(app, ["dashboard", "links", "--site", "x' OR 'a' = 'a"])
    assert refused.exit_code == 1
    assert refused.stderr == "error: \"x' OR 'a' = 'a\" is not a clinic site\n"
