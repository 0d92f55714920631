"""The address of the client that sent a request, through the proxies this deployment trusts and no others.

Behind a reverse proxy every request arrives from the proxy's own address, and the
client's is in `X-Forwarded-For`, which anyone can also set. So the header is read
only when the request came from a trusted proxy (`TRUSTED_PROXIES`: addresses or
networks, from the environment), and only as far back as the chain of trusted
proxies goes: walking the header from the right, the first address that is not a
trusted proxy is the client. A request from anyone else is the peer's own address,
whatever it claims. Login throttling (django-axes' AXES_CLIENT_IP_CALLABLE), the
audit log and API tokens' last use all ask here.

django-ipware is not used: its trusted-proxy check reads the header alone and never
compares the connecting peer, so a direct client could forge a whole trusted chain.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(trusted):
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


def _address(text):
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def is_trusted_proxy(text):
    address = _address(text or "")
    return address is not None and any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(request):
    """The client's address: the peer's, or, from a trusted proxy, the last untrusted one it forwarded."""
    peer = request.META.get("REMOTE_ADDR") or None
    if not is_trusted_proxy(peer):
        return peer
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(forwarded):
        if _address(hop) is None:
            # Something the proxies did not write: stop at the last address they vouched for.
            break
        if not is_trusted_proxy(hop):
            return str(_address(hop))
        peer = hop
    return peer
