"""Every HTTP request the portal makes to an address people give it (calendar feeds, webhooks, and any later
caller): the only module that opens a URL.

Anyone who may add such an address could otherwise make the portal call its own network (metadata
services, admin ports). So the host is resolved once, every address it resolves to is checked (IPv4 and
IPv6, mapped and embedded forms, unspecified, loopback, private, link-local, the cloud metadata addresses),
and the connection goes to exactly the checked address, with the original Host header and TLS server name:
a second, different answer from DNS (rebinding) is never asked for. Redirects are followed only when the
caller allows them, at most `max_redirects`, each through the same check. Connect, read and total timeouts
and a response-size cap are part of every request.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.dispatch import Signal

REDIRECT_STATUSES = {301, 302, 303, 307, 308}
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


# Sent for every request refused before anything was fetched: `url` (the one asked for), `reason`, and
# `subject`, the object the request was made for (a calendar, a webhook subscription). The audit log
# records each one (audit.signals), so an attempt to steer the portal inside leaves a trace.
request_refused = Signal()


class OutboundRefused(ValueError):
    """The portal will not send this request: the reason says why (scheme, internal address, redirects)."""


class OutboundTooLarge(ValueError):
    """The answer is larger than the caller allows."""


@dataclass(frozen=True)
class Answer:
    """What the server answered: status, reason, headers (case-insensitive) and at most max_bytes of body."""

    status: int
    reason: str
    headers: object
    body: bytes
    url: str


def internal_reason(ip):
    """Why `ip` is not an address the portal may call from outside development (None when it is global)."""
    embedded = []
    if ip.version == 6:  # an IPv4 address carried inside IPv6 (mapped, 6to4, Teredo) is judged as itself first
        embedded += [address for address in (ip.ipv4_mapped, ip.sixtofour) if address is not None]
        if ip.teredo:
            embedded.append(ip.teredo[1])
    for address in [*embedded, ip]:
        if address in METADATA_ADDRESSES:
            return f"{address} is a cloud metadata address"
        if address.is_unspecified:
            return f"{address} is the unspecified address"
        if address.is_loopback:
            return f"{address} is a loopback address"
        if address.is_link_local:
            return f"{address} is a link-local address"
        if not address.is_global:
            return f"{address} is an internal address"
    return None


def resolve(host, port, *, allow_internal=False, resolver=socket.getaddrinfo):
    """The addresses `host` resolves to, each checked; OutboundRefused naming the first that may not be called."""
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise OutboundRefused(f"{host} does not resolve: {getattr(error, 'strerror', None) or error}") from error
    addresses = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise OutboundRefused(f"{host} resolves to no address")
    if not allow_internal:
        for ip in addresses:
            reason = internal_reason(ip)
            if reason:
                raise OutboundRefused(f"{host} resolves to {ip}: {reason}, which the portal does not call")
    return addresses


def internal_address_of(host, port=None):
    """The first address `host` resolves to that the portal may not call, or None (also when it does not resolve).

    For checking an address when it is saved (a webhook's URL); sending checks again, through request()."""
    try:
        addresses = resolve(host, port, allow_internal=True)
    except OutboundRefused:
        return None
    return next((ip for ip in addresses if internal_reason(ip)), None)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the host name resolves to now."""

    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = str(address)

    def connect(self):
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.pinned_address = str(address)

    def connect(self):
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def request(
    method,
    url,
    *,
    body=None,
    headers=None,
    allow_internal=False,
    connect_timeout=5.0,
    read_timeout=10.0,
    total_timeout=30.0,
    max_bytes=1024 * 1024,
    max_redirects=0,
    truncate=False,
    resolver=socket.getaddrinfo,
    subject=None,
):
    """Send one request and return its Answer; OutboundRefused, OutboundTooLarge, TimeoutError or OSError if not.

    A redirect is returned as it is unless `max_redirects` allows following it (GET only after a 303), each
    hop resolved and checked like the first. With `truncate` an answer longer than `max_bytes` is cut there
    instead of refused (a webhook receiver's answer matters only by its status and first words).
    A refusal is announced by `request_refused` with `subject`, the object the request is for.
    """
    try:
        return _follow(
            method,
            url,
            body=body,
            headers=headers,
            allow_internal=allow_internal,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            total_timeout=total_timeout,
            max_bytes=max_bytes,
            max_redirects=max_redirects,
            truncate=truncate,
            resolver=resolver,
        )
    except OutboundRefused as error:
        request_refused.send(sender=OutboundRefused, url=url, reason=str(error), subject=subject)
        raise


def _follow(
    method,
    url,
    *,
    body,
    headers,
    allow_internal,
    connect_timeout,
    read_timeout,
    total_timeout,
    max_bytes,
    max_redirects,
    truncate,
    resolver,
):
    deadline = time.monotonic() + total_timeout
    for _hop in range(max_redirects + 1):
        answer = _one_request(
            method,
            url,
            body=body,
            headers=headers or {},
            allow_internal=allow_internal,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            deadline=deadline,
            max_bytes=max_bytes,
            truncate=truncate,
            resolver=resolver,
        )
        if answer.status not in REDIRECT_STATUSES or max_redirects == 0:
            return answer
        location = answer.headers.get("Location", "")
        if not location:
            return answer
        url = urljoin(url, location)
        if answer.status == 303:
            method, body = "GET", None
    raise OutboundRefused(f"more than {max_redirects} redirects; the last pointed to {url}")


def _one_request(
    method,
    url,
    *,
    body,
    headers,
    allow_internal,
    connect_timeout,
    read_timeout,
    deadline,
    max_bytes,
    truncate,
    resolver,
):
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.hostname:
        raise OutboundRefused(f"{url} is not an http or https address")
    port = parts.port or (443 if scheme == "https" else 80)
    address = resolve(parts.hostname, port, allow_internal=allow_internal, resolver=resolver)[0]
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, address=address, timeout=connect_timeout)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        connection.connect()
        connection.sock.settimeout(read_timeout)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes and not truncate:
            raise OutboundTooLarge(f"the answer is {int(declared):,} bytes, more than {max_bytes:,}")
        chunks, size = [], 0
        while chunk := response.read(min(64 * 1024, max_bytes - size + 1)):
            size += len(chunk)
            if size > max_bytes:
                if truncate:
                    chunks.append(chunk[: len(chunk) - (size - max_bytes)])
                    break
                raise OutboundTooLarge(f"the answer is more than {max_bytes:,} bytes")
            if time.monotonic() > deadline:
                raise TimeoutError("the answer took longer than the total time allowed")
            chunks.append(chunk)
        return Answer(response.status, response.reason, response.headers, b"".join(chunks), url)
    finally:
        connection.close()
