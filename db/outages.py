"""What PostgreSQL (or the way to it) does while it is down: refused or lost connections, shutdown, overload,
a pooled connection whose server went away. The API answers these with a 503 (api/outages.py, which also
judges a driver InterfaceError by its words: a closed pool is an outage, any other misuse a defect). A
background loop that meets one, or any InterfaceError, logs a warning and tries again on its next round
(delivery/webhook_sender.py, workers/outbox_sweep.py); any other database error is a defect, logged as an
error."""

import asyncpg

CONNECTION_OUTAGES: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, no socket file, timed out (TimeoutError is an OSError)
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    # A pooled connection whose server went away mid-idle: its protocol state is lost with it.
    asyncpg.exceptions.InternalClientError,
)
DATABASE_OUTAGES: tuple[type[Exception], ...] = (*CONNECTION_OUTAGES, asyncpg.exceptions.InterfaceError)
"""What the background loops wait out: a loop retries on its next round either way."""
