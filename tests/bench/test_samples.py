"""Summing py-spy's raw samples (bench/samples.py): by the project's functions on the stack and by package."""

import pytest

from bench.samples import NO_PYTHON_FRAME, read_samples

RAW = "\n".join(
    [
        "<module> (workers/api_server.py:48);run (uvicorn/main.py:632);take_referral (api/intake.py:109);"
        "remember_key (db/idempotency.py:40);Connection._do_execute (asyncpg/connection.py:1800) 6",
        "<module> (workers/api_server.py:48);take_referral (api/intake.py:109);"
        "take_referral (api/intake.py:120);Client.call (temporalio/bridge/client.py:150) 3",
        "<module> (workers/api_server.py:48);Runner.run (asyncio/runners.py:118) 1",
        "",
    ]
)


def test_a_function_counts_each_stack_once_however_often_it_recurs() -> None:
    samples = read_samples(RAW)

    assert samples.total == 10
    assert samples.own["take_referral (api/intake.py)"] == 9  # 6 + 3, the recursive stack counted once
    assert samples.own["remember_key (db/idempotency.py)"] == 6


def test_only_the_projects_own_packages_are_listed_as_functions() -> None:
    own = read_samples(RAW).own

    assert not any("uvicorn" in name or "asyncpg" in name for name in own)
    assert not any("workers/" in name for name in own)  # the entry point holds every sample


def test_a_package_is_charged_with_the_samples_its_code_was_running() -> None:
    shares = {share.name: share.percent for share in read_samples(RAW).top_packages(5)}

    assert shares == {"asyncpg": 60.0, "temporalio": 30.0, "asyncio": 10.0}


def test_top_own_shares_are_percent_of_all_samples_largest_first() -> None:
    top = read_samples(RAW).top_own(1)

    assert [(share.name, share.percent) for share in top] == [("take_referral (api/intake.py)", 90.0)]


def test_no_samples_give_no_shares() -> None:
    samples = read_samples("")

    assert samples.total == 0
    assert samples.top_own(5) == [] and samples.top_packages(5) == []


def test_a_sample_without_a_python_frame_counts_and_is_charged_to_none_of_them() -> None:
    samples = read_samples("main (api/app.py:1) 3\n 1")

    assert samples.total == 4
    assert samples.packages == {"api": 3, NO_PYTHON_FRAME: 1}


def test_a_path_with_spaces_or_parentheses_is_read_whole() -> None:
    samples = read_samples("main (api/app.py:1);work (my (old) copy/lib.py:7) 2\n")

    assert samples.packages == {"my (old) copy": 2}
    assert samples.own == {"main (api/app.py)": 2}


def test_a_full_path_is_charged_to_its_package_after_site_packages_or_the_stdlib() -> None:
    raw = (
        "main (api/app.py:1);execute (/srv/.venv/lib/python3.11/site-packages/asyncpg/connection.py:9) 3\n"
        "main (api/app.py:1);select (/usr/lib/python3.11/selectors.py:4); 1\n"  # and a trailing `;`
    )
    assert read_samples(raw).packages == {"asyncpg": 3, "selectors": 1}


def test_a_line_that_is_not_frames_and_a_count_is_refused_with_its_number() -> None:
    with pytest.raises(ValueError, match="line 2 "):
        read_samples("main (api/app.py:1) 2\nmain (api/app.py:1) many")
