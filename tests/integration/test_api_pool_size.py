"""The API's PostgreSQL pool is as large as `DVR_API_POOL_SIZE` says (20 by default)."""

from temporalio.client import Client

from api.app import create_app
from config.settings import Settings


def test_the_pool_size_defaults_to_twenty() -> None:
    assert Settings(_env_file=None).api_pool_size == 20


async def test_the_api_opens_a_pool_of_the_configured_size(database: str, temporal: Client) -> None:
    app = create_app(Settings(database_url=database, api_pool_size=3, _env_file=None), temporal=temporal)
    async with app.router.lifespan_context(app):
        assert app.state.pool.get_max_size() == 3
