"""A loopback HTTP server serving one binary file, for download tests and benchmarks.

It can honour Range requests (with ETag / If-Range) or not, and drop the connection after
sending part of the body, to test resumption.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class FileServer:
    """Serves `data` at every GET path, as an attachment named `filename`."""

    def __init__(
        self,
        data: bytes | None = None,
        *,
        size: int | None = None,
        ranges: bool = True,
        drop_after: list[int] | None = None,
        etag: str = '"v1"',
        filename: str | None = "slide.svs",
        chunk: int = 1 << 16,
    ) -> None:
        """`data`, or `size` bytes generated on the fly (for large benchmarks); `drop_after`:
        byte counts after which successive answers are cut (one entry per cut)."""
        if (data is None) == (size is None):
            raise ValueError("give data or size")
        self.data = data
        self.size = len(data) if data is not None else int(size or 0)
        self.ranges = ranges
        self.drop_after = list(drop_after or [])
        self.etag = etag
        self.filename = filename
        self.chunk = chunk
        self.requests: list[dict[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def byte_range(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the served file."""
        if self.data is not None:
            return self.data[start:end]
        pattern = bytes(range(256))
        first = start % 256
        out = (pattern[first:] + pattern * ((end - start) // 256 + 2))[: end - start]
        return out

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
                start, end, status = 0, server.size, 200
                wanted = self.headers.get("Range")
                if_range = self.headers.get("If-Range")
                match = re.fullmatch(r"bytes=(\d+)-", wanted or "")
                if server.ranges and match and (if_range is None or if_range == server.etag):
                    start, status = int(match.group(1)), 206
                    if start >= server.size:
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{server.size}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(end - start))
                self.send_header("ETag", server.etag)
                if server.ranges:
                    self.send_header("Accept-Ranges", "bytes")
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end - 1}/{server.size}")
                if server.filename is not None:
                    self.send_header("Content-Disposition", f'attachment; filename="{server.filename}"')
                self.end_headers()
                cut = server.drop_after.pop(0) if server.drop_after else None
                sent = 0
                position = start
                while position < end:
                    step = min(server.chunk, end - position)
                    if cut is not None and sent + step > cut:
                        step = cut - sent
                        self.wfile.write(server.byte_range(position, position + step))
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(2)  # drop it mid-body
                        return
                    self.wfile.write(server.byte_range(position, position + step))
                    position += step
                    sent += step

        return Handler
