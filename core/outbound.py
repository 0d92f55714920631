"""Requests the portal makes to addresses people give it (calendar feeds, webhooks).

Anyone who may add such an address could otherwise make the portal call its own
network (metadata services, admin ports), so outside development an address that
resolves to a loopback, private or link-local IP is refused by its caller.
"""

import ipaddress
import socket


def internal_address_of(host, port=None):
    """The first non-global IP `host` resolves to, or None (also when it does not resolve:
    the request that follows reports an unknown host in its own words)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port)}
    except (socket.gaierror, UnicodeError):
        return None
    for text in sorted(addresses):
        ip = ipaddress.ip_address(text.split("%")[0])
        if not ip.is_global:
            return ip
    return None
