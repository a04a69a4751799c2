"""The HTTP API of DESIGN.md §4: routes, authentication, idempotency and problem+json errors."""
