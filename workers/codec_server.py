"""Serves the codec server with uvicorn: `python -m workers.codec_server`.

It needs the codec keys (config/codec_keys.py) and the application database, where the API keys it accepts
are (config/database.py); it listens on `DVR_CODEC_HOST`:`DVR_CODEC_PORT` (127.0.0.1:8234 by default) and
answers browsers of the origins in `DVR_CODEC_UI_ORIGINS` only.
"""

import uvicorn

from codec_server.app import create_codec_app
from config.codec_keys import CodecKeyError, load_codec_keys
from config.database import NoDatabase, database_url
from config.logging import configure_logging
from config.settings import Settings
from workers.api_server import server_options


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        settings = settings.model_copy(update={"database_url": database_url(settings)})
    except NoDatabase as err:
        raise SystemExit(f"the codec server needs the application database: {err}") from None
    try:
        keys = load_codec_keys(settings)
    except CodecKeyError as err:
        raise SystemExit(f"the codec server needs the payload codec keys: {err}") from None
    options = server_options(settings) | {"host": settings.codec_host, "port": settings.codec_port}
    uvicorn.run(create_codec_app(settings, keys), log_level="warning", **options)


if __name__ == "__main__":
    main()
