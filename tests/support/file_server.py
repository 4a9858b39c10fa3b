"""A loopback HTTP server serving one binary file, for download tests and benchmarks.

It can honour Range requests (with ETag / Last-Modified and If-Range) or not, ignore If-Range like
a careless proxy, drop the connection after sending part of the body, or stall after part of the
body until the test releases it (to kill a client mid-download).
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import quote


class FileServer:
    """Serves `data` at every GET path, as an attachment named `filename`.

    `data` and `etag` may be replaced while serving (a new version of the file); each answer uses
    the version current when its request arrived.
    """

    def __init__(
        self,
        data: bytes | None = None,
        *,
        size: int | None = None,
        ranges: bool = True,
        if_range: bool = True,
        drop_after: list[int] | None = None,
        stall_after: list[int] | None = None,
        etag: str | None = '"v1"',
        last_modified: str | None = None,
        filename: str | None = "slide.svs",
        chunk: int = 1 << 16,
    ) -> None:
        """`data`, or `size` bytes generated on the fly (for large benchmarks); `drop_after`:
        byte counts after which successive answers are cut (one entry per cut); `stall_after`:
        byte counts after which successive answers wait for `release` (`stalled` is set then);
        `if_range=False` answers a Range request with the current version whatever If-Range says."""
        if (data is None) == (size is None):
            raise ValueError("give data or size")
        self.data = data
        self.size = len(data) if data is not None else int(size or 0)
        self.ranges = ranges
        self.if_range = if_range
        self.drop_after = list(drop_after or [])
        self.stall_after = list(stall_after or [])
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.etag = etag
        self.last_modified = last_modified
        self.filename = filename
        self.chunk = chunk
        self._pattern = bytes(range(256)) * (chunk // 256 + 2)  # generated data: bytes i % 256
        self.requests: list[dict[str, str]] = []
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        # a short poll: shutdown() waits for it, 0.5 s by default, on every test
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def byte_range(self, start: int, end: int, data: bytes | None = None) -> bytes | memoryview:
        """Bytes [start, end) of the served file (or of `data`, a version of it)."""
        data = self.data if data is None else data
        if data is not None:
            return memoryview(data)[start:end]
        if end - start > len(self._pattern) - 256:
            self._pattern = bytes(range(256)) * ((end - start) // 256 + 2)
        # A view of a block made once: a benchmark's server must not spend its time building (and
        # the client's bytes in flight copying) each chunk, or the server becomes what is measured.
        first = start % 256
        return memoryview(self._pattern)[first : first + end - start]

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server.requests.append({k.lower(): v for k, v in self.headers.items()})
                data, size, etag, modified = server.data, server.size, server.etag, server.last_modified
                if data is not None:
                    size = len(data)
                start, end, status = 0, size, 200
                wanted = self.headers.get("Range")
                if_range = self.headers.get("If-Range")
                match = re.fullmatch(r"bytes=(\d+)-", wanted or "")
                unchanged = if_range is None or not server.if_range or if_range in (etag, modified)
                if server.ranges and match and unchanged:
                    start, status = int(match.group(1)), 206
                    if start >= size:
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{size}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(end - start))
                if etag is not None:
                    self.send_header("ETag", etag)
                if modified is not None:
                    self.send_header("Last-Modified", modified)
                if server.ranges:
                    self.send_header("Accept-Ranges", "bytes")
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
                if server.filename is not None:
                    self.send_header("Content-Disposition", _disposition(server.filename))
                self.end_headers()
                cut = server.drop_after.pop(0) if server.drop_after else None
                stall = server.stall_after.pop(0) if server.stall_after else None
                sent = 0
                position = start
                while position < end:
                    step = min(server.chunk, end - position)
                    if stall is not None and sent >= stall:
                        self.wfile.flush()
                        server.stalled.set()
                        server.release.wait()
                        stall = None
                    if cut is not None and sent + step > cut:
                        step = cut - sent
                        self.wfile.write(server.byte_range(position, position + step, data))
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(2)  # drop it mid-body
                        return
                    self.wfile.write(server.byte_range(position, position + step, data))
                    position += step
                    sent += step

        return Handler


def _disposition(filename: str) -> str:
    if filename.isascii():
        return f'attachment; filename="{filename}"'
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"  # RFC 6266 / 5987


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that closes a connection mid-body is what these tests do on purpose
