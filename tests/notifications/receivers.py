"""A real HTTP receiver on 127.0.0.1 for webhook tests: records what it is sent, answers as scripted."""

import socket
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ReceivedRequest:
    path: str
    headers: object  # case-insensitive, as a receiver reads them
    body: bytes


class Receiver:
    """Answers each POST with the next scripted status (then `default_status`); start() and stop() on one port."""

    def __init__(self, default_status=200):
        self.default_status = default_status
        self.answers = deque()
        self.requests = []
        self.port = _free_port()
        self.server = None
        self.thread = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks/sla"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(ReceivedRequest(self.path, self.headers, body))
                status = receiver.answers.popleft() if receiver.answers else receiver.default_status
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else f"status {status}".encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()
            self.server = None

    def delivery_ids(self):
        return [int(request.headers["X-SLA-Portal-Delivery"]) for request in self.requests]


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
