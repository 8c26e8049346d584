"""Counting each viewer once: the shop clicks and shares a brand sees cannot be inflated.

A tap on Shop on website (per drop) or Share (per post) counts once per viewer and clock
hour (UTC). The viewer is the account when a token or the web session is sent, else the
client address (an IPv6 address by its /64, what one subscriber is usually given), as
``dropbell.ratelimit.client_ip`` reads it. So a script without an account adds at most
one per address and hour, and shoppers who are not logged in behind one address (an
office, a carrier's NAT) count as one an hour: the figures err low, never high.

What is stored is :func:`once_key`, a SHA-256 of the hour and the viewer, unique per drop
(or post); it keeps addresses out of plain sight, though an IPv4 address could be found
again by trying them all.

The brand's funnel and its opens by source count people, not taps: a click or a visit of
a drop's page also stores :func:`visitor_key`, the same viewer's key for good (a SHA-256
of the drop and the viewer, no hour in it), so a shopper who taps twice, or comes back
tomorrow, counts once; someone not logged in counts once per address (block).
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime

from fastapi import Request

from dropbell.accounts.service import Viewer
from dropbell.ratelimit import client_ip


def viewer_key(request: Request, viewer: Viewer | None) -> str:
    """Who is counted: ``account:ID``, or ``address:A`` for someone not logged in."""
    if viewer is not None:
        return f"account:{viewer.account.id}"
    return f"address:{address_block(client_ip(request))}"


def address_block(address: str) -> str:
    """An IPv4 address as it is; an IPv6 one as its /64 (IPv4-mapped: the IPv4 address)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def once_key(viewer_key: str, now: datetime) -> str:
    """The same for one viewer all through one clock hour (UTC), different in the next."""
    hour = now.replace(minute=0, second=0, microsecond=0).isoformat()
    return hashlib.sha256(f"{hour}|{viewer_key}".encode()).hexdigest()


def visitor_key(viewer_key: str, drop_id: int) -> str:
    """The same for one viewer of one drop for good; unlike another drop's for the same
    viewer (the keys of two drops cannot be matched up)."""
    return hashlib.sha256(f"drop:{drop_id}|{viewer_key}".encode()).hexdigest()
