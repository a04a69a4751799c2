"""Whose X-Forwarded-For the API believes: nobody's unless proxies are named, so the auth throttle counts
each client by the address it really connects from."""

import httptools
import uvloop

from config.settings import Settings
from workers.api_server import server_options


def test_no_forwarded_address_is_believed_by_default() -> None:
    options = server_options(Settings())
    assert options["proxy_headers"] is False
    assert options["forwarded_allow_ips"] == ""


def test_the_named_proxies_are_believed() -> None:
    options = server_options(Settings(forwarded_allow_ips="10.0.0.5,10.0.0.6"))
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "10.0.0.5,10.0.0.6"


def test_the_api_is_served_with_uvloop_and_httptools() -> None:
    options = server_options(Settings())
    assert (options["loop"], options["http"]) == ("uvloop", "httptools")
    # Both installed (pyproject.toml): uvicorn would fail to start without them, not fall back.
    assert uvloop.new_event_loop is not None
    assert httptools.HttpRequestParser is not None
