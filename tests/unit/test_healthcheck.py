"""The containers' health checks (workers/healthcheck.py): an HTTP answer, and a worker that keeps polling."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workers.healthcheck import POLLED_WITHIN, Unhealthy, check_http, main, polls_from_this_host

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Answers(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = int(self.path.strip("/"))
        self.send_response(status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A local server answering /<status> with that status."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_2xx_answer_is_healthy(server: str) -> None:
    check_http(f"{server}/200")
    assert main(["http", f"{server}/204"]) == 0


def test_an_unavailable_service_is_unhealthy(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Unhealthy, match="answered 503"):
        check_http(f"{server}/503")
    assert main(["http", f"{server}/503"]) == 1
    assert "unhealthy" in capsys.readouterr().err


def test_nothing_listening_is_unhealthy(server: str) -> None:
    with pytest.raises(Unhealthy, match="unreachable"):
        check_http("http://127.0.0.1:9/readyz", timeout=1)


def test_a_worker_on_this_host_that_polled_lately_is_healthy() -> None:
    pollers = [("81@other-box", NOW), ("7@worker-box", NOW - timedelta(seconds=40))]
    assert polls_from_this_host(pollers, "worker-box", NOW, POLLED_WITHIN)


@pytest.mark.parametrize(
    "pollers",
    [
        [],
        [("7@other-box", NOW)],  # another replica's worker
        [("7@worker-box", NOW - POLLED_WITHIN - timedelta(seconds=1))],  # stopped polling
        [("7@worker-box", None)],
        [("7@worker-box-2", NOW)],  # a host whose name only starts the same
    ],
)
def test_no_recent_poll_from_this_host_is_unhealthy(pollers: list[tuple[str, datetime | None]]) -> None:
    assert not polls_from_this_host(pollers, "worker-box", NOW, POLLED_WITHIN)
