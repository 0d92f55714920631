"""core.outbound: resolve once, check every address, connect to the checked one, follow redirects only through
the same check. Everything served or refused here is on loopback; nothing leaves the machine."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core import outbound


class Server:
    """A loopback HTTP server answering GET with scripted (status, headers, body) per path; records Host headers."""

    def __init__(self, routes, address="127.0.0.1"):
        self.routes, self.hosts = routes, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hosts.append(self.headers.get("Host"))
                status, headers, body = server.routes.get(self.path, (404, {}, b"missing"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((address, 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = Server({"/feed.ics": (200, {}, b"BEGIN:VCALENDAR")})
    yield running
    running.stop()


def answering(*addresses):
    """A resolver that answers these addresses, and counts how often it is asked."""

    def resolver(host, port, type=0):
        resolver.calls += 1
        return [
            (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in addresses
        ]

    resolver.calls = 0
    return resolver


@pytest.mark.parametrize(
    ("addresses", "reason"),
    [
        (("93.184.215.14", "127.0.0.1"), "127.0.0.1 is a loopback address"),  # public first, loopback second
        (("169.254.169.254",), "cloud metadata address"),
        (("fd00:ec2::254",), "cloud metadata address"),
        (("::ffff:127.0.0.1",), "127.0.0.1 is a loopback address"),  # IPv4-mapped IPv6
        (("0.0.0.0",), "unspecified address"),
        (("10.0.0.8",), "internal address"),
        (("fe80::1",), "link-local address"),
    ],
)
def test_every_resolved_address_is_checked_and_the_first_internal_one_is_named(addresses, reason):
    resolver = answering(*addresses)
    with pytest.raises(outbound.OutboundRefused, match=reason):
        outbound.request("GET", "http://feeds.example.com/cal.ics", resolver=resolver)
    assert resolver.calls == 1


@pytest.mark.parametrize(
    "url", ["http://[::ffff:127.0.0.1]/", "http://2130706433/", "http://0x7f.1/", "http://localhost/"]
)
def test_numeric_and_mapped_spellings_of_loopback_are_refused(url):
    with pytest.raises(outbound.OutboundRefused, match="loopback address"):
        outbound.request("GET", url)


def test_the_connection_goes_to_the_checked_address_with_the_original_host(server):
    """DNS rebinding: the name is resolved once; a second, different answer is never asked for."""
    resolver = answering("127.0.0.1")
    answer = outbound.request(
        "GET", f"http://feeds.example.test:{server.port}/feed.ics", allow_internal=True, resolver=resolver
    )
    assert (answer.status, answer.body) == (200, b"BEGIN:VCALENDAR")
    assert resolver.calls == 1
    assert server.hosts == [f"feeds.example.test:{server.port}"]


def test_redirects_are_followed_only_through_the_same_check_and_at_most_three(server):
    base = f"http://127.0.0.1:{server.port}"
    server.routes["/hop"] = (302, {"Location": "/feed.ics"}, b"")
    assert outbound.request("GET", f"{base}/hop", allow_internal=True, max_redirects=3).body == b"BEGIN:VCALENDAR"
    # Not followed unless allowed: the redirect is the answer.
    assert outbound.request("GET", f"{base}/hop", allow_internal=True).status == 302
    for number in range(5):
        server.routes[f"/loop{number}"] = (302, {"Location": f"/loop{number + 1}"}, b"")
    with pytest.raises(outbound.OutboundRefused, match="more than 3 redirects"):
        outbound.request("GET", f"{base}/loop0", allow_internal=True, max_redirects=3)


def test_a_redirect_from_an_allowed_host_to_loopback_is_refused_before_anything_is_fetched(server, monkeypatch):
    """The feed host stands on 127.0.0.2, which this test alone lets through; its redirect to 127.0.0.1 is not."""
    server.routes["/secret"] = (200, {}, b"the portal's own schema")
    real_reason = outbound.internal_reason
    monkeypatch.setattr(outbound, "internal_reason", lambda ip: None if str(ip) == "127.0.0.2" else real_reason(ip))
    location = f"http://127.0.0.1:{server.port}/secret"
    redirecting = Server({"/cal.ics": (302, {"Location": location}, b"")}, address="127.0.0.2")
    feed_host = answering("127.0.0.2")

    def resolver(host, port, type=0):
        return feed_host(host, port, type) if host == "feeds.example.com" else socket.getaddrinfo(host, port)

    try:
        with pytest.raises(outbound.OutboundRefused, match=r"127\.0\.0\.1 is a loopback address"):
            url = f"http://feeds.example.com:{redirecting.port}/cal.ics"
            outbound.request("GET", url, resolver=resolver, max_redirects=3)
        assert redirecting.hosts == [f"feeds.example.com:{redirecting.port}"]  # the first hop was asked
        assert server.hosts == []  # the loopback target never was
    finally:
        redirecting.stop()


def test_an_answer_larger_than_allowed_is_refused_or_cut(server):
    server.routes["/big"] = (200, {}, b"x" * 5000)
    url = f"http://127.0.0.1:{server.port}/big"
    with pytest.raises(outbound.OutboundTooLarge, match="more than 1,000"):
        outbound.request("GET", url, allow_internal=True, max_bytes=1000)
    assert outbound.request("GET", url, allow_internal=True, max_bytes=1000, truncate=True).body == b"x" * 1000
