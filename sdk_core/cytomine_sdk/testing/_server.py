"""The HTTP server: a threaded server on 127.0.0.1 and the handler passing each request to
:meth:`~cytomine_sdk.testing.CytomineStub.handle` (and honouring injected delays and resets)."""

from __future__ import annotations

import socket
import struct
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from ._cytomine_stub import CytomineStub

class _StubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # many threads connecting at once: no SYN dropped (1 s retransmits)
    block_on_close = False  # idle keep-alive connections must not block stop()
    stub: CytomineStub


class _StubRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CytomineStub/1"
    timeout = 60
    # Headers and body go in two writes: without TCP_NODELAY the body waits for the client's
    # delayed ACK, ~40 ms on every keep-alive request (production servers set it too).
    disable_nagle_algorithm = True

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline().split(b";", 1)[0].strip()
                size = int(size_line or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        stub = cast(_StubHTTPServer, self.server).stub
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), value)
        response = stub.handle(self.command, self.path, headers, self._read_body())
        if response.delay > 0:
            time.sleep(response.delay)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.reset_after is not None:  # an injected fault: part of the body, then a reset
            self.wfile.write(response.body[: response.reset_after])
            self.wfile.flush()
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        stub = cast(_StubHTTPServer, self.server).stub
        if stub.verbose:
            super().log_message(format, *args)
