"""Where pushes may go: ``https`` on public addresses only (no SSRF into our own network).

A push endpoint is a URL the client hands us and we will POST to, so it is checked
when it is subscribed (a 422 with a readable message) and again, per push-service
origin, before the sender opens connections to it: the host must resolve only to
global unicast addresses — not loopback, private, link-local, multicast, reserved,
shared (CGNAT), documentation or unspecified ranges, in IPv4 or IPv6 (IPv4-mapped
IPv6 addresses are judged as the IPv4 address they carry). The ``host:port``s in
``DROPBELL_PUSH_ALLOWED_HOSTS`` are allowed anyway, over ``http`` too: a local push
service in tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from dropbell import errors

RESOLVE_TIMEOUT_SECONDS = 5.0


class EndpointRefused(errors.Invalid):
    code = "push_endpoint_refused"
    message = "This push endpoint is not allowed."


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the system resolver; tests may replace this)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def is_public(address: str) -> bool:
    """True for a global unicast address (IPv4 or IPv6)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def host_port(parts: SplitResult) -> tuple[str, int, str]:
    """(host, port, "host:port") of a URL, IPv6 hosts in brackets in the last one."""
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise EndpointRefused("The push endpoint must be an absolute URL with a host.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise EndpointRefused("The push endpoint's port is not valid.") from None
    shown = f"[{host}]" if ":" in host else host
    return host, port, f"{shown}:{port}"


async def check_endpoint(url: str, allowed_hosts: frozenset[str]) -> None:
    """Refuse (``EndpointRefused``, a 422) an endpoint we must not send requests to."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise EndpointRefused("The push endpoint must be an https URL.")
    if parts.username is not None or parts.password is not None:
        raise EndpointRefused("The push endpoint must not carry a user name or password.")
    host, port, where = host_port(parts)
    if where in allowed_hosts:
        return
    if scheme != "https":
        raise EndpointRefused("The push endpoint must be an https URL.")
    try:
        addresses = [str(ipaddress.ip_address(host))]  # a literal address: no look-up
    except ValueError:
        addresses = await _resolve(host, port)
    if not addresses:
        raise EndpointRefused(f"The push endpoint's host {host} has no address.")
    for address in addresses:
        if not is_public(address):
            raise EndpointRefused(
                f"The push endpoint's host {host} is at {address}, which is not a public "
                "address; pushes only go to public push services."
            )


async def _resolve(host: str, port: int) -> list[str]:
    try:
        return await asyncio.wait_for(resolve(host, port), RESOLVE_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, UnicodeError):
        raise EndpointRefused(f"The push endpoint's host {host} could not be resolved.") from None
