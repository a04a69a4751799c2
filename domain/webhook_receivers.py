"""What a webhook subscription may name: a receiver's URL, and the event types it wants (README "Webhooks").

Pure checks that answer a specific reason in plain words, or None for a good request; the API answers the
reason as a 422 problem. The reasons never repeat the URL (its query may carry a token of the receiver's).
"""

from collections.abc import Sequence
from urllib.parse import urlsplit

from domain.webhook_events import EventType

MAX_URL_CHARS = 2048


def receiver_url_problem(url: str, *, allow_http: bool) -> str | None:
    """Why `url` cannot receive webhooks: it must be an absolute http(s) URL with a host, no user name or
    password, no spaces or control characters, at most 2048 characters, and https unless `allow_http`."""
    if len(url) > MAX_URL_CHARS:
        return f"url is longer than {MAX_URL_CHARS} characters."
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return "url may not contain spaces or control characters."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- a port that is not a number raises here
    except ValueError:
        return "url is not a valid URL."
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "url must be an absolute http:// or https:// URL with a host."
    if parts.username is not None or parts.password is not None:
        return "url may not carry a user name or password: put a token in the path or query instead."
    if parts.scheme.lower() == "http" and not allow_http:
        return "url must use https://."
    return None


def event_types_problem(event_types: Sequence[str]) -> str | None:
    """Why `event_types` is not a subscription's list: it must name at least one known type, each once."""
    if not event_types:
        return "event_types must name at least one event type."
    known = {t.value for t in EventType}
    for name in event_types:
        if name not in known:
            shown = name if len(name) <= 60 else f"{name[:60]}..."
            return f"event_types: {shown!r} is not an event type; known: {', '.join(sorted(known))}."
    if len(set(event_types)) != len(event_types):
        return "event_types names an event type more than once."
    return None
