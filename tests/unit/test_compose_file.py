"""docker-compose.yml, checked without a Docker engine: against the compose specification's JSON schema, and
for what the deployment promises (README, "Deploying"): no secret in the file, Temporal's frontend
unpublished, scalable workers, a healthcheck on every long-running service, the search attributes and the
retention."""

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.common import SearchAttributeIndexedValueType

from config.binaries import installed_binary
from config.settings import Settings
from tests.deploy_files import (
    COMPOSE_FILE,
    REFERENCE,
    ROOT,
    Service,
    command_text,
    dockerfile_stages,
    environment,
    healthcheck_of,
    is_job,
    services,
)
from workflows.search_attributes import ALL

SECRET_NAME = re.compile(r"PASSWORD|PWD|SECRET|TOKEN|API_KEY")
# Named like secrets, but switches: the UI passes the signed-in user's token on to the codec server.
NOT_SECRETS = {"TEMPORAL_CODEC_PASS_ACCESS_TOKEN"}
URL_PASSWORD = re.compile(r"://[^:/@\s]+:(?P<password>[^@\s]+)@")
TEMPORAL_FRONTEND_PORT = "7233"
# Services whose settings are not config/settings.py's (yet): the payload codec's come with its module.
CODEC_SETTINGS = "DVR_CODEC_"


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    # The compose-spec schema ships inside check-jsonschema (vendor.compose-spec): no network needed.
    return subprocess.run(
        [installed_binary("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_compose_file_follows_the_compose_specification() -> None:
    result = check_jsonschema(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_refuses_a_misspelt_key(tmp_path: Path) -> None:
    misspelt = tmp_path / "docker-compose.yml"
    misspelt.write_text(COMPOSE_FILE.read_text().replace("    healthcheck:\n", "    healtcheck:\n", 1))
    result = check_jsonschema(misspelt)
    assert result.returncode != 0
    assert "healtcheck" in result.stdout


def secret_literals(all_services: dict[str, Service]) -> list[str]:
    """Every place a secret is written in the file itself rather than taken from the environment: a
    secret-named variable whose value is not exactly `${NAME:?...}` (or `${NAME:-}`, optional and empty by
    default), and a URL with a password that is not such a reference."""
    found: list[str] = []
    for service_name, service in all_services.items():
        for name, value in environment(service).items():
            where = f"{service_name}.{name}"
            if SECRET_NAME.search(name) and name not in NOT_SECRETS:
                reference = REFERENCE.fullmatch(value)
                if reference is None or (reference["op"] == ":-" and reference["rest"]):
                    found.append(where)
            for url in URL_PASSWORD.finditer(value):
                reference = REFERENCE.fullmatch(url["password"])
                if reference is None or reference["op"] != ":?":
                    found.append(where)
    return found


def test_no_secret_is_written_in_the_compose_file() -> None:
    assert secret_literals(services()) == []


@pytest.mark.parametrize(
    "env",
    [
        {"POSTGRES_PASSWORD": "hunter2"},
        {"TEMPORAL_AUTH_CLIENT_SECRET": "${TEMPORAL_AUTH_CLIENT_SECRET:-a-default-secret}"},
        {"DATABASE_URL": "postgresql://dvr:hunter2@app-db:5432/dvr"},
        {"DATABASE_URL": "postgresql://dvr:${APP_DB_PASSWORD:-hunter2}@app-db:5432/dvr"},
    ],
)
def test_the_secret_check_finds_a_written_secret(env: dict[str, str]) -> None:
    assert secret_literals({"app": {"environment": env}}) == [f"app.{next(iter(env))}"]


def test_secret_files_are_mounted_from_files_only() -> None:
    secrets = yaml.safe_load(COMPOSE_FILE.read_text()).get("secrets", {})
    assert secrets, "the payload codec's keys come as a secret file"
    assert all(set(secret) == {"file"} for secret in secrets.values())


def example_values(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


@pytest.mark.parametrize("example", [".env.example", "deploy/app.env.example"])
def test_the_example_settings_carry_no_secret(example: str) -> None:
    values = example_values(ROOT / example)
    assert values
    assert {name: value for name, value in values.items() if SECRET_NAME.search(name) and value} == {}


@pytest.mark.parametrize("path", [".env", "deploy/app.env", "deploy/secrets/codec-keys"])
def test_the_files_that_hold_secrets_are_ignored_by_git(path: str) -> None:
    ignored = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, check=False)
    assert ignored.returncode == 0, f"{path} is not git-ignored"


def test_every_file_compose_reads_secrets_from_is_a_git_ignored_one() -> None:
    env_files = {f for service in services().values() for f in service.get("env_file", [])}
    secret_files = {
        s["file"].removeprefix("./") for s in yaml.safe_load(COMPOSE_FILE.read_text())["secrets"].values()
    }
    assert env_files | secret_files <= {"deploy/app.env", "deploy/secrets/codec-keys"}


def test_the_worker_scales_it_has_no_fixed_name_host_name_or_port() -> None:
    worker = services()["worker"]
    assert {"container_name", "hostname", "ports"} & set(worker) == set()
    assert "replicas" not in worker.get("deploy", {}), "`--scale worker=N` decides how many"


def published_ports(service: Service) -> list[str]:
    """Each published port as `[address:]published:target`, whichever form it is written in."""
    return [
        f"{p.get('host_ip', '')}:{p.get('published')}:{p.get('target')}" if isinstance(p, dict) else str(p)
        for p in service.get("ports", [])
    ]


def test_temporals_frontend_is_published_nowhere() -> None:
    all_services = services()
    assert "ports" not in all_services["temporal"]
    for name, service in all_services.items():
        assert service.get("network_mode") != "host", name
        for port in published_ports(service):
            assert TEMPORAL_FRONTEND_PORT not in port.split(":"), f"{name} publishes {port}"


def test_temporal_and_the_databases_are_on_internal_networks_only() -> None:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    networks: dict[str, Any] = document["networks"]
    for name in ("temporal", "temporal-db", "app-db"):
        service_networks = document["services"][name]["networks"]
        assert all(networks[n].get("internal") for n in service_networks), name


def test_published_ports_listen_on_the_configured_address_loopback_by_default() -> None:
    for name, service in services().items():
        for port in published_ports(service):
            assert port.startswith("${DVR_PUBLISH_IP:-127.0.0.1}:"), f"{name} publishes {port}"


def test_only_the_api_the_uis_and_the_codec_server_are_published() -> None:
    published = {name for name, service in services().items() if service.get("ports")}
    assert published == {"api", "temporal-ui", "temporal-ui-admin", "codec-server"}


def test_every_long_running_service_has_a_healthcheck() -> None:
    stages = dockerfile_stages()
    long_running = {name: s for name, s in services().items() if not is_job(s)}
    assert {"temporal", "api", "worker", "codec-server", "temporal-ui", "app-db"} <= set(long_running)
    assert [name for name, s in long_running.items() if healthcheck_of(s, stages) is None] == []


def test_the_api_is_healthy_when_ready_and_the_worker_when_it_polls() -> None:
    stages = dockerfile_stages()
    all_services = services()
    assert "/readyz" in str(healthcheck_of(all_services["api"], stages))
    assert "workers.healthcheck" in str(healthcheck_of(all_services["worker"], stages))


def test_every_dependency_waits_for_health_or_for_a_job_to_succeed() -> None:
    all_services = services()
    for name, service in all_services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for dependency, options in depends_on.items():
            expected = (
                "service_completed_successfully" if is_job(all_services[dependency]) else "service_healthy"
            )
            assert options.get("condition") == expected, f"{name} -> {dependency}"


def test_every_job_is_waited_for() -> None:
    all_services = services()
    awaited = {d for s in all_services.values() for d in s.get("depends_on", {})}
    assert {name for name, s in all_services.items() if is_job(s)} <= awaited


def registered_search_attributes(setup: Service) -> list[tuple[str, str]]:
    return re.findall(r"--name\s+(\w+)\s+--type\s+(\w+)", command_text(setup))


def test_the_setup_job_registers_exactly_the_workflows_search_attributes() -> None:
    expected = [
        (key.name, SearchAttributeIndexedValueType(key.indexed_value_type).name.title()) for key in ALL
    ]
    assert sorted(registered_search_attributes(services()["temporal-setup"])) == sorted(expected)


def test_the_search_attribute_check_sees_one_missing() -> None:
    setup = services()["temporal-setup"]
    setup["command"] = [command_text(setup).replace("--name BlockResult --type Keyword", "")]
    assert ("BlockResult", "Keyword") not in registered_search_attributes(setup)


def retention_days(setup: Service) -> int:
    reference = REFERENCE.fullmatch(environment(setup)["RETENTION"])
    assert reference is not None and reference["op"] == ":-"
    days = re.fullmatch(r"(\d+)d", reference["rest"])
    assert days, "the default retention is a number of days"
    return int(days[1])


def test_retention_covers_a_twelve_month_pathway_and_the_audit_period() -> None:
    setup = services()["temporal-setup"]
    assert retention_days(setup) >= 365 + 90
    # Set when the namespace is created, and again on every run (a changed DVR_TEMPORAL_RETENTION applies).
    assert command_text(setup).count('--retention "$$RETENTION"') == 2


def test_every_process_uses_the_same_namespace() -> None:
    names = {"DVR_TEMPORAL_NAMESPACE", "TEMPORAL_DEFAULT_NAMESPACE", "NAMESPACE"}
    found = {env[n] for s in services().values() for n in names if n in (env := environment(s))}
    assert len(found) == 1, found


def test_every_image_is_pinned_to_a_version() -> None:
    for name, service in services().items():
        if "image" in service:
            repository, _, tag = service["image"].rpartition(":")
            assert repository and re.match(r"\d+\.\d+", tag), f"{name}: {service['image']}"


def settings_variables() -> set[str]:
    names = {f"DVR_{field.upper()}" for field in Settings.model_fields}
    return names | {"DATABASE_URL"}


def test_the_codec_server_is_given_no_secret_it_does_not_use() -> None:
    # The application's settings file holds the mail and SMS secrets; the browser-facing codec server needs
    # its keys (a compose secret) and the OpenID settings, nothing more.
    codec = services()["codec-server"]
    assert "env_file" not in codec
    assert not {v for v in environment(codec) if "PASSWORD" in v or "TOKEN" in v or v == "DATABASE_URL"}


@pytest.mark.parametrize("name", ["migrate", "api", "worker", "codec-server"])
def test_the_application_is_given_only_settings_it_reads(name: str) -> None:
    service = services()[name]
    given = set(environment(service))
    for env_file in service.get("env_file", []):
        given |= set(example_values(ROOT / f"{env_file}.example"))
    unknown = {v for v in given - settings_variables() if not v.startswith(CODEC_SETTINGS)}
    assert unknown == set()


def test_the_application_reaches_temporal_and_its_database_by_service_name() -> None:
    for name in ("api", "worker", "migrate"):
        env = environment(services()[name])
        assert "@app-db:5432/" in env["DATABASE_URL"]
        if name != "migrate":
            assert env["DVR_TEMPORAL_ADDRESS"] == f"temporal:{TEMPORAL_FRONTEND_PORT}"


def test_the_staff_ui_signs_in_and_is_read_only_the_admin_ui_writes() -> None:
    staff, admin = environment(services()["temporal-ui"]), environment(services()["temporal-ui-admin"])
    for env in (staff, admin):
        assert env["TEMPORAL_AUTH_ENABLED"] == "true"
        assert env["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
        assert env["TEMPORAL_CODEC_ENDPOINT"].startswith("${DVR_CODEC_PUBLIC_URL:?")
    assert staff["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"
    assert admin["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "false"
    assert staff["TEMPORAL_AUTH_CLIENT_ID"] != admin["TEMPORAL_AUTH_CLIENT_ID"], (
        "admins sign in to their own client"
    )
