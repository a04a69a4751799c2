"""Reading the deployment's files as the tests check them: docker-compose.yml and the Dockerfile's stages."""

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

Service = dict[str, Any]


def compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The compose file as compose reads it: anchors and `<<` merges resolved, `${...}` left as written."""
    return cast(dict[str, Any], yaml.safe_load(path.read_text()))


def services(path: Path = COMPOSE_FILE) -> dict[str, Service]:
    return cast(dict[str, Service], compose(path)["services"])


def environment(service: Service) -> dict[str, str]:
    """A service's `environment:` as a mapping, whichever of the two forms it is written in."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: "" if value is None else str(value) for name, value in env.items()}


def is_job(service: Service) -> bool:
    """A one-off job (schema, setup, migrations): it runs to completion and is never restarted."""
    return str(service.get("restart", "no")) == "no"


def command_text(service: Service) -> str:
    command = service.get("command") or ""
    return command if isinstance(command, str) else "\n".join(map(str, command))


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arguments for kw, arguments in self.instructions if kw == keyword]


def dockerfile_stages(path: Path = DOCKERFILE) -> dict[str, Stage]:
    """Each `FROM ... AS name` stage with its instructions, in order (continuation lines joined, comments
    dropped). A stage without a name is called by its index, as `docker build` does."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = [w for w in shlex.split(arguments) if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(stages))
            current = stages[name] = Stage(name=name, base=words[0])
        elif current is not None:
            current.instructions.append((keyword, arguments.strip()))
    return stages


def lineage(stages: dict[str, Stage], name: str) -> list[Stage]:
    """The stage and the stages it is built on, the oldest first."""
    chain = [stages[name]]
    while chain[0].base in stages:
        chain.insert(0, stages[chain[0].base])
    return chain


def effective(stages: dict[str, Stage], name: str, keyword: str) -> str | None:
    """The last `keyword` instruction in effect for the image of stage `name` (USER, HEALTHCHECK, CMD...)."""
    found = [arguments for stage in lineage(stages, name) for arguments in stage.all(keyword)]
    return found[-1] if found else None


def healthcheck_of(service: Service, stages: dict[str, Stage]) -> str | None:
    """The health test a service runs: its own `healthcheck:`, else its image target's HEALTHCHECK; None
    when it has none or it is disabled."""
    check = service.get("healthcheck")
    if check is not None:
        test = check.get("test")
        if check.get("disable") or not test or test == ["NONE"]:
            return None
        return " ".join(test) if isinstance(test, list) else str(test)
    build = service.get("build")
    if not isinstance(build, dict) or "target" not in build:
        return None
    instruction = effective(stages, build["target"], "HEALTHCHECK")
    if instruction is None or instruction.upper() == "NONE":
        return None
    return instruction


REFERENCE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<op>:\?|:-)(?P<rest>[^}]*)\}")
