"""Reading a clinic's calendar file: YAML (examples/calendar.yaml documents it), whose resources may instead
be a CSV table beside it (examples/calendar-resources.csv), as a spreadsheet exports them.

Every problem is reported with the file and line it is on, all at once, so one pass fixes the file. YAML is
read the way people write calendars: every value is text (YAML 1.1 would read `17:00` as the number 1020, in
base 60, and drop a phone number's +), and a key given twice is a mistake rather than the last one silently
winning.
"""

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from domain.clinic_calendar import CalendarInvalid, ClinicCalendar, Loc, validate_calendar

CSV_COLUMNS = ("id", "kind", "name", "days", "hours")


@dataclass(frozen=True)
class FileProblem:
    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        at = f"{self.file} line {self.line}" if self.line is not None else self.file
        return f"{at}: {self.where + ': ' if self.where else ''}{self.message}"


class CalendarFileInvalid(Exception):
    def __init__(self, problems: list[FileProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass(frozen=True)
class CalendarFile:
    calendar: ClinicCalendar
    sha256: str
    """Of the file's bytes (and its resources CSV's): which file the audit log's entry loaded."""


class _Loader(yaml.SafeLoader):
    """Every plain value but null (`~`, `null`, nothing) is text: no field of a calendar is a number or a
    yes/no, and a phone number's + or a time's colon then needs no quotes."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is given twice (first on line {seen[key] + 1})", key_node.start_mark
                )
            if isinstance(key, str):
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def read_calendar_file(path: Path) -> CalendarFile:
    """The valid calendar in `path`, or CalendarFileInvalid listing every problem with its line."""
    raw = _read(path, path.name)
    node, data = _parse_yaml(raw, path.name)
    digest = hashlib.sha256(raw)
    csv_lines: _CsvLines | None = None
    if isinstance(data, dict) and isinstance(data.get("resources"), str):
        table = path.parent / data["resources"]
        table_raw = _read(table, data["resources"])
        digest.update(table_raw)
        data["resources"], csv_lines = _resources_from_csv(table_raw, data["resources"])
    try:
        calendar = validate_calendar(data)
    except CalendarInvalid as err:
        problems = [_locate(p.loc, p.message, path.name, node, csv_lines) for p in err.problems]
        raise CalendarFileInvalid(sorted(problems, key=lambda p: (p.file, p.line or 0))) from None
    return CalendarFile(calendar, digest.hexdigest())


def _read(path: Path, name: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise CalendarFileInvalid([FileProblem(name, None, "", f"cannot be read: {err.strerror}")]) from None


def _parse_yaml(raw: bytes, name: str) -> tuple[Node | None, Any]:
    loader = _Loader(raw.decode("utf-8", errors="replace"))
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        raise CalendarFileInvalid([FileProblem(name, line, "", f"not valid YAML: {err.problem}")]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise CalendarFileInvalid(
            [FileProblem(name, 1, "", "the file is not a calendar (a mapping of keys)")]
        )
    return node, data


@dataclass
class _CsvLines:
    """Which CSV line each resource, and each of its days, came from."""

    file: str
    resource: dict[int, int]
    days: dict[tuple[int, str], int]


def _resources_from_csv(raw: bytes, name: str) -> tuple[list[dict[str, Any]], _CsvLines]:
    """One row per resource and opening window (`id,kind,name,days,hours`); a resource's later rows may leave
    kind and name empty; a resource without days and hours takes the clinic's."""
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig", errors="replace"), newline=""))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise CalendarFileInvalid([FileProblem(name, 1, "", f"the header must be {','.join(CSV_COLUMNS)}")])
    resources: list[dict[str, Any]] = []
    lines = _CsvLines(name, {}, {})
    index: dict[str, int] = {}
    problems: list[FileProblem] = []
    for row in reader:
        line = reader.line_num
        if None in row or any(value is None for value in row.values()):
            problems.append(FileProblem(name, line, "", f"a row has {len(CSV_COLUMNS)} columns"))
            continue
        cells = {column: row[column].strip() for column in CSV_COLUMNS}
        if cells["id"] not in index:
            index[cells["id"]] = len(resources)
            lines.resource[len(resources)] = line
            resources.append({"id": cells["id"], "kind": cells["kind"], "name": cells["name"]})
        n = index[cells["id"]]
        resource = resources[n]
        for column in ("kind", "name"):
            if cells[column] and cells[column] != resource[column]:
                if resource[column]:
                    problems.append(
                        FileProblem(name, line, f"{column} of {cells['id']}", "differs from its first row")
                    )
                resource[column] = cells[column]
        if cells["days"] or cells["hours"]:
            resource.setdefault("hours", {}).setdefault(cells["days"], []).append(cells["hours"])
            lines.days.setdefault((n, cells["days"]), line)
    if problems:
        raise CalendarFileInvalid(problems)
    return resources, lines


def _locate(loc: Loc, message: str, name: str, node: Node | None, csv_lines: _CsvLines | None) -> FileProblem:
    where = _where(loc)
    if csv_lines is not None and loc[:1] == ("resources",) and len(loc) > 1 and isinstance(loc[1], int):
        n = loc[1]
        line = csv_lines.resource.get(n)
        if len(loc) > 3 and loc[2] == "hours":
            line = csv_lines.days.get((n, str(loc[3])), line)
        return FileProblem(csv_lines.file, line, where, message)
    return FileProblem(name, _yaml_line(node, loc), where, message)


def _yaml_line(node: Node | None, loc: Loc) -> int | None:
    """The line of the deepest node along `loc`: the key's line for a mapping's value."""
    if node is None:
        return None
    line = node.start_mark.line
    for part in loc:
        if isinstance(node, MappingNode):
            found = next((pair for pair in node.value if str(pair[0].value) == str(part)), None)
            if found is None:
                break
            line, node = found[0].start_mark.line, found[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1


def _where(loc: Loc) -> str:
    """`resources[3].hours.mon-fri`: items counted from 1, as people count the entries of a list."""
    text = ""
    for part in loc:
        text += f"[{part + 1}]" if isinstance(part, int) else f"{'.' if text else ''}{part}"
    return text
