"""Serves the API with uvicorn: `python -m workers.api_server`."""

import uvicorn

from api.app import create_app
from config.logging import configure_logging
from config.settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_level="warning")


if __name__ == "__main__":
    main()
