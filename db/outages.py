"""What PostgreSQL (or the way to it) does to a background loop while it is down: refused or lost
connections, shutdown, overload, a pooled connection whose server went away. A loop that meets one logs a
warning and tries again on its next round (delivery/webhook_sender.py, workers/outbox_sweep.py); any other
database error is a defect, logged as an error. The API answers the same outages with a 503
(api/outages.py)."""

import asyncpg

DATABASE_OUTAGES: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, no socket file, timed out (TimeoutError is an OSError)
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.InterfaceError,
)
