"""Delivering what the outbox holds to systems outside: the webhook sender."""
