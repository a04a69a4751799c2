"""What a webhook subscription may name: a receiver's URL, and the event types it wants (README "Webhooks").

Pure checks that answer a specific reason in plain words, or None for a good request; the API answers the
reason as a 422 problem. The reasons never repeat the URL (its query may carry a token of the receiver's),
nor what was sent as an event type.

A receiver is reached on a public address, or on a network the clinic allows (`DVR_WEBHOOK_ALLOWED_NETWORKS`:
an EHR on the hospital's own network, say): never this machine, a link-local or cloud metadata address, or
another private network of the operator's by default, so that a subscription cannot make the orchestrator
probe what sits beside it (`address_problem`; the sender checks every address a name resolves to before it
connects: delivery/receiver_addresses.py).
"""

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from domain.webhook_events import EventType

MAX_URL_CHARS = 2048
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Names that are this machine or a cloud's metadata service whatever they resolve to.
_LOCAL_NAMES = ("localhost", "metadata.google.internal", "metadata")
_LOCAL_SUFFIXES = (".localhost", ".internal", ".local")


def address_problem(address: IPAddress, allowed: Sequence[Network]) -> str | None:
    """Why webhooks may not go to `address`: not a public one, and not on an allowed network. An IPv6 address
    that carries an IPv4 one (mapped, IPv4-compatible, NAT64, 6to4, Teredo) is judged by what it carries:
    that is where it leads."""
    if isinstance(address, ipaddress.IPv6Address) and (carried := _carried_ipv4(address)):
        return next((p for p in (address_problem(v4, allowed) for v4 in carried) if p), None)
    if any(address in network for network in allowed):
        return None
    if address.is_multicast or not address.is_global:
        return "url's host is not a public address (allow its network with DVR_WEBHOOK_ALLOWED_NETWORKS)."
    return None


def host_problem(host: str, allowed: Sequence[Network]) -> str | None:
    """Why `host` (a URL's host) cannot receive webhooks, as far as the name or address itself tells."""
    address: IPAddress | None = _as_ipv4(host)
    if address is None:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            name = host.lower().rstrip(".")
            if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
                return "url's host names this machine or a local service."
            return None
    return address_problem(address, allowed)


def _as_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """`host` as a resolver reads an IPv4 address: dotted, or in the shorthand, hex, octal and one-number
    forms ("127.1", "0x7f.1", "0177.0.0.1", "2130706433"), which name addresses as much as "127.0.0.1"."""
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _carried_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 one leads to."""
    carried = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        carried.extend(address.teredo)
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):  # not :: or ::1
        carried.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return carried


def receiver_url_problem(url: str, *, allow_http: bool, allowed: Sequence[Network] = ()) -> str | None:
    """Why `url` cannot receive webhooks: it must be an absolute http(s) URL with a host, no user name or
    password, no spaces or control characters, at most 2048 characters, https unless `allow_http`, and a
    host that is not local or private (`host_problem`) unless on an `allowed` network."""
    if len(url) > MAX_URL_CHARS:
        return f"url is longer than {MAX_URL_CHARS} characters."
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF for ch in url):
        return "url may not contain spaces, control characters or lone surrogates."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- a port that is not a number raises here
        httpx.URL(url).host  # noqa: B018 -- a host that is not a valid name (IDNA) raises: never reachable
    except (ValueError, httpx.InvalidURL):
        return "url is not a valid URL."
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "url must be an absolute http:// or https:// URL with a host."
    if parts.username is not None or parts.password is not None:
        return "url may not carry a user name or password: put a token in the path or query instead."
    if parts.scheme.lower() == "http" and not allow_http:
        return "url must use https://."
    return host_problem(parts.hostname, allowed)


def event_types_problem(event_types: Sequence[str]) -> str | None:
    """Why `event_types` is not a subscription's list: it must name at least one known type, each once."""
    if not event_types:
        return "event_types must name at least one event type."
    known = {t.value for t in EventType}
    for index, name in enumerate(event_types):
        if name not in known:
            return f"event_types[{index}] is not an event type; known: {', '.join(sorted(known))}."
    if len(set(event_types)) != len(event_types):
        return "event_types names an event type more than once."
    return None
