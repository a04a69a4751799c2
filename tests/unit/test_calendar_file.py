"""Reading a calendar file: YAML as people write it, and every problem with the line it is on."""

from datetime import time, timedelta
from pathlib import Path

import pytest

from admin.calendar_file import CalendarFileInvalid, read_calendar_file

EXAMPLE = Path(__file__).parents[2] / "examples" / "calendar.yaml"


def _problems(path: Path) -> list[str]:
    with pytest.raises(CalendarFileInvalid) as raised:
        read_calendar_file(path)
    return [str(p) for p in raised.value.problems]


def _write(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = EXAMPLE.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "calendar.yaml"
    path.write_text(text)
    return path


def _line(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def _at(path: Path, text: str, below: int = 0) -> str:
    """Where a problem is reported: the file and the line holding `text` (or `below` lines under it)."""
    return f"{path.name} line {_line(path, text) + below}"


def test_the_example_reads_times_phones_and_durations_unquoted() -> None:
    calendar = read_calendar_file(EXAMPLE).calendar
    assert calendar.clinic.phone == "+16025550111"
    block = calendar.appointment_kinds["block"]  # type: ignore[index]
    assert (block.latest_start, block.duration, block.lead_time) == (
        time(10, 30),
        timedelta(minutes=30),
        timedelta(days=1),
    )
    lee = next(r for r in calendar.resources if r.id == "phx-dr-lee")
    assert calendar.weekly_hours(lee) == {(day, time(8), time(17)) for day in range(5)}


def test_each_problem_names_its_line_and_nothing_is_returned(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        ("  timezone: America/Phoenix", "  timezone: America/Phonix"),
        ("  mon-fri: 08:00-17:00", "  mon-fri: 08:00-17:00\n  fri: 09:00-12:00"),
        (
            "    name: Dr. Lee (physiatrist)",
            "    name: Dr. Lee (physiatrist)\n    hours:\n      mon: 17:00-08:00",
        ),
        ("    duration: PT45M", "    duration: 45 minutes"),
        ("    needs: [surgeon, procedure_room]", "    needs: [surgeon, anaesthetist]"),
        ("    lead_time: P1D\n", "    lead_time: P1D\n    colour: blue\n"),
    )
    problems = _problems(path)
    assert problems == [
        f"{_at(path, 'America/Phonix')}: clinic.timezone: must be an IANA time zone name,"
        " such as America/Phoenix",
        f"{_at(path, 'mon-fri: 08:00', -1)}: hours: fri given in more than one key",
        f"{_at(path, '17:00-08:00')}: resources[2].hours.mon[1]: '17:00-08:00' closes before it opens",
        f"{_at(path, '45 minutes')}: appointment_kinds.mri.duration: '45 minutes' is not an"
        " ISO 8601 duration such as PT45M, PT1H30M or P1D",
        f"{_at(path, 'colour')}: appointment_kinds.mri.colour: Extra inputs are not permitted",
    ]


def test_what_refers_to_nothing_is_found_once_the_shape_is_right(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        ("    needs: [surgeon, procedure_room]", "    needs: [surgeon, anaesthetist]"),
        (
            "blocked: []",
            "blocked:\n  - resource: phx-dr-who\n    from: 2030-01-02 09:00\n    until: 2030-01-02 08:00\n"
            "    reason: x",
        ),
        ("  - id: phx-dr-patel", "  - id: phx-dr-lee"),
    )
    assert _problems(path) == [
        f"{_at(path, 'id: phx-dr-lee')}: resources[2].id: 'phx-dr-lee' is given more than once",
        f"{_at(path, 'id: phx-dr-lee', 3)}: resources[3].id: 'phx-dr-lee' is given more than once",
        f"{_at(path, 'anaesthetist')}: appointment_kinds.dvr.needs[2]: needs 1 resource(s)"
        " of kind 'anaesthetist'; the file has 0",
        f"{_at(path, 'phx-dr-who')}: blocked[1].resource: 'phx-dr-who' is not a resource of the file",
        f"{_at(path, 'until: 2030')}: blocked[1].until: ends before it starts",
    ]


def test_a_key_given_twice_and_broken_yaml_name_their_line(tmp_path: Path) -> None:
    twice = _write(tmp_path, ("  exam:\n", "  mri:\n"))
    first = _line(twice, "  mri:")
    assert _problems(twice) == [
        f"{_at(twice, '  mri:', 5)}: not valid YAML: 'mri' is given twice (first on line {first})"
    ]
    broken = _write(tmp_path, ("    needs: [mri_scanner]", "    needs: [mri_scanner"))
    assert _problems(broken)[0].startswith("calendar.yaml line ")
    assert "not valid YAML" in _problems(broken)[0]


def test_a_missing_kind_or_a_resource_without_hours_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, ("hours:\n  mon-fri: 08:00-17:00\n", ""), ("  exam:\n", "  exam_:\n"))
    assert _problems(path) == [
        f"{_at(path, 'exam_')}: appointment_kinds.exam_: Input should be 'mri', 'exam', 'block' or 'dvr'",
    ]
    kinds_ok = _write(tmp_path, ("hours:\n  mon-fri: 08:00-17:00\n", ""))
    assert _problems(kinds_ok) == [
        f"{_at(kinds_ok, f'id: {resource}')}: resources[{n}]: no hours: give the"
        " resource's, or the clinic's `hours`"
        for n, resource in enumerate(
            ["phx-mri-1", "phx-dr-lee", "phx-dr-patel", "phx-dr-moreno", "phx-proc-room-1"], start=1
        )
    ]
    no_exam = _write(
        tmp_path, ("  exam:\n    duration: PT30M\n    needs: [physician]\n    lead_time: P1D\n", "")
    )
    assert _problems(no_exam) == [
        f"{_at(no_exam, 'appointment_kinds:')}: appointment_kinds: the pathway books every kind: exam missing"
    ]


def test_csv_problems_name_the_csv_line(tmp_path: Path) -> None:
    text = EXAMPLE.read_text()
    start, end = text.index("resources:\n  - id:"), text.index("\n# The four kinds")
    (tmp_path / "calendar.yaml").write_text(f"{text[:start]}resources: rooms.csv\n{text[end:]}")
    (tmp_path / "rooms.csv").write_text(
        "id,kind,name,days,hours\n"
        "phx-mri-1,mri_scanner,MRI scanner 1,mon-fri,08:00-17:00\n"
        "phx-dr-lee,physician,Dr. Lee,mon-fri,08:00-17:00\n"
        "phx-dr-lee,,,sat,8:00-12:00\n"
        "phx-dr-moreno,surgeon,Dr. Moreno,,\n"
        "phx-proc-room-1,procedure_room,Room 1,funday,08:00-17:00\n"
    )
    assert _problems(tmp_path / "calendar.yaml") == [
        "rooms.csv line 4: resources[2].hours.sat[1]: '8:00' is not a time of day as HH:MM (24-hour clock)",
        "rooms.csv line 6: resources[4].hours.funday: 'funday' is not a day or a range of days"
        " (mon, tue, ..., sun; mon-fri)",
    ]
    (tmp_path / "rooms.csv").write_text("id;kind;name\n")
    assert _problems(tmp_path / "calendar.yaml") == [
        "rooms.csv line 1: the header must be id,kind,name,days,hours"
    ]
    (tmp_path / "rooms.csv").unlink()
    assert _problems(tmp_path / "calendar.yaml") == ["rooms.csv: cannot be read: No such file or directory"]
