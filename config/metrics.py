"""Where a process serves its Prometheus metrics: a port of its own, apart from the API's.

The API's port faces patients and the SMS gateway (`DVR_PUBLIC_URL`); its metrics (request rates, open
pathways per clinic) are no one's business outside the clinic's network, though they carry no PHI. So
metrics are served on `DVR_METRICS_HOST` (127.0.0.1 by default) at ports of their own, which the compose
stack keeps inside its network and Prometheus scrapes there: no key in Prometheus's configuration, and
nothing to guard on the public port. The worker's come from the Temporal SDK's runtime
(config/temporal_runtime.py); the API's from `prometheus_client`, served here.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, start_http_server

from config.settings import Settings


@contextmanager
def serving_metrics(registry: CollectorRegistry, host: str, port: int) -> Iterator[int]:
    """Serves `registry` in the Prometheus text format at http://host:port/metrics (a thread of its own:
    a scrape reads values, never waits on the event loop) until the block ends; yields the port (`port` 0:
    any free one)."""
    server, thread = start_http_server(port, addr=host, registry=registry)
    try:
        yield int(server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def worker_metrics_address(settings: Settings) -> str | None:
    """`host:port` where the worker's Temporal SDK metrics are served; None when not asked for."""
    if settings.worker_metrics_port is None:
        return None
    return f"{settings.metrics_host}:{settings.worker_metrics_port}"
