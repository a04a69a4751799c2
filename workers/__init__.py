"""Process entry points: the worker, the API server, and the all-in-one local stack."""
