"""Where the webhook sender may connect: the receiver's host checked again at each attempt, by its name and by
every address the name resolves to then (README "Webhooks").

A subscription's URL is checked when it is made (domain/webhook_receivers.py's `receiver_url_problem`), but
a name may since have been pointed at this machine, a cloud's metadata service or the operator's own network;
a subscription could then make the orchestrator probe what sits beside it. So the sender resolves the name
itself before each attempt and holds every address to the same rules (`host_problem`, `address_problem`),
then connects to an address it checked (`pinned_receiver`): a second lookup by the HTTP client could answer
otherwise (DNS rebinding). The name stays the request's Host and, over https, the name the certificate is
checked against. The reasons are the plain words a delivery's `last_error` shows, never the URL.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from domain.webhook_receivers import IPAddress, Network, address_problem, host_problem


async def resolved_addresses(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to now, for a TCP connection to `port` (OSError: it resolves to none).
    Resolved without blocking the event loop, which carries the sender's other attempts."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in found]


@dataclass(frozen=True)
class Pinned:
    """A receiver's URL with an address checked in place of its name, and what the request keeps of the
    name: its Host header and, over https, the name its certificate must carry (`extensions`)."""

    url: str
    host: str
    sni_hostname: str | None

    @property
    def extensions(self) -> dict[str, Any] | None:
        return {"sni_hostname": self.sni_hostname} if self.sni_hostname else None


async def pinned_receiver(url: str, allowed: Sequence[Network]) -> Pinned | str:
    """The receiver at `url` pinned to an address checked now, or why it may not be sent to: "address not
    allowed" when its name or any address it resolves to is local or private and not on an `allowed`
    network, "connection failed" when the name does not resolve. Every address is checked, not only the one
    connected to, as a name is one receiver whichever address answers."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host_problem(host, allowed) is not None:
        return "address not allowed"
    try:
        addresses = await resolved_addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError:
        return "connection failed"
    if not addresses:
        return "connection failed"
    if any(address_problem(address, allowed) is not None for address in addresses):
        return "address not allowed"
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    named = _is_name(host)
    return Pinned(
        url=urlunsplit(parts._replace(netloc=netloc)),
        host=parts.netloc,  # the name as the subscription gave it (no user info: refused when made)
        sni_hostname=host if named and parts.scheme == "https" else None,
    )


def _is_name(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False
