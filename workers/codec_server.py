"""Serves the codec server with uvicorn: `python -m workers.codec_server`.

It needs the codec keys (config/codec_keys.py) and a way to check its callers: the application database,
where the API keys are (config/database.py), or an OpenID provider (`DVR_CODEC_OIDC_ISSUER`), or both. It
listens on `DVR_CODEC_SERVER_HOST`:`DVR_CODEC_SERVER_PORT` (127.0.0.1:8234 by default) and answers browsers
of the origins in `DVR_CODEC_CORS_ORIGINS` only.
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
    configure_logging(settings.log_level, settings.log_format)
    try:
        settings = settings.model_copy(update={"database_url": database_url(settings)})
    except NoDatabase as err:
        if not settings.codec_oidc_issuer:
            raise SystemExit(
                "the codec server checks its callers' API keys in the application database, or their tokens"
                f" with an OpenID provider (DVR_CODEC_OIDC_ISSUER), and has neither: {err}"
            ) from None
    try:
        keys = load_codec_keys(settings)
    except CodecKeyError as err:
        raise SystemExit(f"the codec server needs the payload codec keys: {err}") from None
    options = server_options(settings) | {
        "host": settings.codec_server_host,
        "port": settings.codec_server_port,
    }
    uvicorn.run(create_codec_app(settings, keys), log_level="warning", **options)


if __name__ == "__main__":
    main()
