"""The client's address, the key of every per-client limit (API.md §1 Rate limits).

The socket's peer is the client, unless that peer is one of ``TRUSTED_PROXIES`` (the local Nginx):
then the client is the last ``X-Forwarded-For`` hop that isn't a trusted proxy. Hops to the left
of it were written by the client itself and are never believed.

Where the peer comes from: the local gateway puts the WSGI ``REMOTE_ADDR`` into the event's
``requestContext.identity.sourceIp``; on AWS, API Gateway puts the client's address there itself
(it is the socket's peer as API Gateway saw it), so the same rule holds with no proxy trusted.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
UNKNOWN = "unknown"
MAX_HOPS = 32  # a longer header is a client padding it; only its right end matters


def parse_address(text: str) -> Address | None:
    """An IP address as written by a socket or a proxy; IPv4-mapped IPv6 counts as IPv4."""
    try:
        address = ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Iterable[Network]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Iterable[Network]) -> str:
    """The client's address as text; ``"unknown"`` when even the peer isn't an address."""
    proxies = tuple(trusted_proxies)
    client = parse_address(peer or "")
    if client is None:
        return UNKNOWN
    if forwarded_for and _trusted(client, proxies):
        for hop in reversed(forwarded_for.split(",")[-MAX_HOPS:]):
            address = parse_address(hop)
            if address is None:
                break  # garbage can only come from the client: stop at the last proxy that vouched
            client = address
            if not _trusted(address, proxies):
                break
    return str(client)
