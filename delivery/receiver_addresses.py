"""Where the webhook sender may connect: the receiver's host checked again at each attempt, by its name and by
every address the name resolves to then (README "Webhooks").

A subscription's URL is checked when it is made (domain/webhook_receivers.py's `receiver_url_problem`), but
a name may since have been pointed at this machine, a cloud's metadata service or the operator's own network;
a subscription could then make the orchestrator probe what sits beside it. So the sender resolves the name
itself before each attempt and holds every address to the same rules (`host_problem`, `address_problem`).
The reasons are the plain words a delivery's `last_error` shows, never the URL.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from domain.webhook_receivers import IPAddress, Network, address_problem, host_problem


async def resolved_addresses(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to now, for a TCP connection to `port` (OSError: it resolves to none).
    Resolved without blocking the event loop, which carries the sender's other attempts."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in found]


async def address_refused(url: str, allowed: Sequence[Network]) -> str | None:
    """Why the receiver at `url` may not be sent to now (None: it may): "address not allowed" when its name or
    any address it resolves to is local or private and not on an `allowed` network, "connection failed" when
    the name does not resolve. Every address is checked, not only the first, since the connection may be made
    to any of them."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host_problem(host, allowed) is not None:
        return "address not allowed"
    try:
        addresses = await resolved_addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError:
        return "connection failed"
    if any(address_problem(address, allowed) is not None for address in addresses):
        return "address not allowed"
    return None
