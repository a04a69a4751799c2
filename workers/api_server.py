"""Serves the API with uvicorn: `python -m workers.api_server` (its database: config/database.py)."""

from typing import Any

import uvicorn

from api.app import create_app
from config.codec_keys import CodecKeyError, load_codec_keys
from config.database import database_url_or_exit
from config.logging import configure_logging
from config.settings import Settings
from config.tracing import TracingSettingError


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    settings = settings.model_copy(update={"database_url": database_url_or_exit(settings, "the API")})
    try:
        load_codec_keys(settings)  # a start without keys fails now, not when the first request connects
    except CodecKeyError as err:
        raise SystemExit(f"the API needs the payload codec keys: {err}") from None
    try:
        app = create_app(settings)
    except TracingSettingError as err:
        raise SystemExit(f"the API cannot trace: {err}") from None
    uvicorn.run(app, log_level="warning", **server_options(settings))


def server_options(settings: Settings) -> dict[str, Any]:
    """Where uvicorn listens, whose forwarded client address it believes (only the proxies named), and its
    logging: through ours (config/logging.py), with no access log, whose lines would carry each client's
    address and each path as sent (a patient's link token is in the path of their page). uvloop and httptools
    serve it: uvicorn's pure-Python defaults cost each request more CPU."""
    return {
        "loop": "uvloop",
        "http": "httptools",
        "host": settings.api_host,
        "port": settings.api_port,
        "proxy_headers": settings.forwarded_allow_ips is not None,
        "forwarded_allow_ips": settings.forwarded_allow_ips or "",
        "log_config": None,
        "access_log": False,
    }


if __name__ == "__main__":
    main()
