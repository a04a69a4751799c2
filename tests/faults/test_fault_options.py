"""`python -m faults` refuses settings its scenarios cannot run with, at once and saying why, rather than
starting stacks that wait out their timeouts: the providers scenario needs a patient on each channel."""

import subprocess
import sys
from dataclasses import replace

import pytest

from faults.__main__ import run
from faults.scenarios import SCENARIOS, Options, providers_failing, refusals

ONE = Options(pathways=1)


def test_one_pathway_is_too_few_for_the_providers_scenario_alone() -> None:
    assert refusals(list(SCENARIOS), ONE) == [
        "providers-failing needs --pathways 2 or more (a patient by SMS and one by e-mail, to meet both"
        " providers' failures); name the other scenarios to run them with 1"
    ]
    others = [name for name in SCENARIOS if name != "providers-failing"]
    assert refusals(others, ONE) == []
    assert refusals(list(SCENARIOS), replace(ONE, pathways=2)) == []


def test_no_pathways_and_no_outage_are_refused() -> None:
    nothing = Options(pathways=0, pg_outage_seconds=0)
    assert refusals(["worker-diary", "postgres-down"], nothing) == [
        "--pathways must be at least 1, not 0",
        "--pg-outage-seconds must be more than 0, not 0",
    ]
    assert refusals(["worker-diary"], replace(nothing, pathways=1)) == []  # no outage in it


def test_a_scenario_named_twice_is_refused_once() -> None:
    assert len(refusals(["providers-failing", "providers-failing"], ONE)) == 1


async def test_the_suite_skips_a_refused_scenario_without_starting_a_stack() -> None:
    outcomes, failed = await run(["providers-failing"], ONE)  # a stack would take seconds and print it
    assert outcomes == []
    assert failed == [
        "providers-failing did not run: providers-failing needs --pathways 2 or more (a patient by SMS and"
        " one by e-mail, to meet both providers' failures); name the other scenarios to run them with 1"
    ]


async def test_the_providers_scenario_refuses_one_pathway_before_starting_anything() -> None:
    with pytest.raises(ValueError, match="providers-failing needs --pathways 2"):
        await providers_failing(None, ONE)  # type: ignore[arg-type]  # refused before the rig is touched


def test_the_command_exits_with_the_reason() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "faults", "--pathways", "1"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "error: providers-failing needs --pathways 2 or more" in done.stderr
    assert "running" not in done.stdout  # no scenario started
