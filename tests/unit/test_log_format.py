"""Log lines: JSON for a pipeline, console text for a person; the workflow's identity on every line of it."""

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
import temporalio.workflow
from pydantic import ValidationError

from config.logging import chosen_format, configure_logging
from config.settings import Settings


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def logging_put_back() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    config = structlog.get_config()
    on_message = temporalio.workflow.logger.workflow_info_on_message
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(**config)
    temporalio.workflow.logger.workflow_info_on_message = on_message


def test_json_lines_carry_bound_ids_and_the_sdk_loggers_identity() -> None:
    out = io.StringIO()
    assert configure_logging("info", "json", out) == "json"
    with structlog.contextvars.bound_contextvars(workflow_id="pathway-1", activity_type="send_notification"):
        structlog.get_logger().info("notification.sent", key="pathway-1:booked:a")
    structlog.get_logger().debug("not.at.info")
    workflow_details = {"workflow_id": "pathway-2", "run_id": "run-2", "workflow_type": "PatientPathway"}
    logging.getLogger("temporalio.workflow").warning(
        "message %s could not be sent", "k", extra={"temporal_workflow": workflow_details}
    )
    activity_details = {"workflow_id": "pathway-3", "workflow_run_id": "run-3", "activity_type": "book"}
    logging.getLogger("temporalio.activity").info("done", extra={"temporal_activity": activity_details})

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["notification.sent", "message k could not be sent", "done"]
    ours, workflow, activity = lines
    assert (ours["workflow_id"], ours["activity_type"], ours["level"]) == (
        "pathway-1",
        "send_notification",
        "info",
    )
    assert ours["timestamp"].endswith("Z")
    assert (workflow["workflow_id"], workflow["run_id"], workflow["workflow_type"]) == (
        "pathway-2",
        "run-2",
        "PatientPathway",
    )
    assert (activity["workflow_id"], activity["run_id"], activity["activity_type"]) == (
        "pathway-3",
        "run-3",
        "book",
    )


def test_a_traceback_is_one_json_field() -> None:
    out = io.StringIO()
    configure_logging("info", "json", out)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("somewhere").exception("failed")
    (line,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert line["event"] == "failed" and "RuntimeError" in line["exception"]


def test_console_lines_are_plain_text() -> None:
    out = io.StringIO()
    assert configure_logging("info", "console", out) == "console"
    structlog.get_logger().info("worker.started", task_queue="dvr-pathway")
    (line,) = out.getvalue().splitlines()
    assert "worker.started" in line and "task_queue=dvr-pathway" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_the_sdk_no_longer_repeats_the_identity_in_the_message() -> None:
    configure_logging("info", "json", io.StringIO())
    assert temporalio.workflow.logger.workflow_info_on_message is False


def test_unset_the_format_follows_the_terminal() -> None:
    assert chosen_format(None, Terminal()) == "console"
    assert chosen_format(None, io.StringIO()) == "json"
    assert chosen_format("json", Terminal()) == "json"
    assert chosen_format("console", io.StringIO()) == "console"


def test_the_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVR_LOG_FORMAT", "json")
    assert Settings().log_format == "json"
    monkeypatch.setenv("DVR_LOG_FORMAT", "")
    assert Settings().log_format is None
    monkeypatch.setenv("DVR_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError):
        Settings()
