"""Serves the API with uvicorn: `python -m workers.api_server` (its database: config/database.py)."""

import uvicorn

from api.app import create_app
from config.database import NoDatabase, database_url
from config.logging import configure_logging
from config.settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        settings = settings.model_copy(update={"database_url": database_url(settings)})
    except NoDatabase as err:
        raise SystemExit(f"the API needs the application database: {err}") from None
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_level="warning")


if __name__ == "__main__":
    main()
