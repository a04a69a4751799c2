"""How strong an API key must be: a rule the settings, the bootstrap and every created client share."""

MIN_KEY_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 12


class WeakApiKey(ValueError):
    """A key too short or too repetitive to be a random token; the message never contains the key."""


def check_key_strength(api_key: str) -> None:
    """Refuses a key that cannot be a random token: shorter than 32 characters, or of fewer than 12 distinct
    characters. Generated keys (`new_api_key`) have 43 random URL-safe characters after their prefix."""
    if len(api_key) < MIN_KEY_LENGTH:
        raise WeakApiKey(f"an API key needs at least {MIN_KEY_LENGTH} characters")
    if len(set(api_key)) < MIN_DISTINCT_CHARACTERS:
        raise WeakApiKey(f"an API key needs at least {MIN_DISTINCT_CHARACTERS} distinct characters")
