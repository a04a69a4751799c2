"""The Temporal SDK's runtime of a process: where Temporal Core's own log lines and metrics go.

Core (the SDK's Rust engine) writes its warnings to standard error in a format of its own unless they are
forwarded; here they go to the Python logger `temporalio.core`, so they come out with every other line, in
the process's format (config/logging.py). With a metrics address, Core serves Prometheus metrics there:
the worker's task latencies, schedule-to-start, slots, pollers, sticky cache (README, "Metrics, traces and
logs").

One runtime per process, made before its first client: each runtime has a thread pool of its own.
"""

import logging

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

CORE_LOGGER = "temporalio.core"


def temporal_runtime(metrics_address: str | None = None) -> Runtime:
    """A runtime forwarding Core's warnings to Python logging, serving Prometheus metrics at
    `metrics_address` (`host:port`) when given."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
            ),
            metrics=None if metrics_address is None else PrometheusConfig(bind_address=metrics_address),
        )
    )
