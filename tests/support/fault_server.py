"""A loopback HTTP/1.1 server that misbehaves on purpose, for fault tests.

Each request is handed to a script, a function of an `Exchange`, which answers with raw bytes and
may misbehave exactly as a test needs: cut the body after the headers, reset the connection, close
a kept-alive connection before answering, answer late, send malformed headers. The server runs in
its own threads, speaks real TCP on 127.0.0.1 and records every request it read.

    def script(ex: Exchange) -> None:
        if ex.index == 0:
            ex.send_head(200, {"Content-Length": "100"})
            ex.reset()                    # the body never comes
        else:
            ex.respond(200, b'{"id": 1}')

    with FaultServer(script) as server:
        client = ApiClient(Configuration(server.url, ...))
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType

REASONS = {200: "OK", 204: "No Content", 206: "Partial Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 416: "Range Not Satisfiable", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


@dataclass
class RawRequest:
    """A request as read off the socket."""

    method: str
    target: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    connection: int  # which connection (0, 1, ...) carried it
    on_connection: int  # its position on that connection (0 = first)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass
class Exchange:
    """One request and the socket to answer it on."""

    request: RawRequest
    index: int  # position among all requests the server read
    sock: socket.socket
    closed: bool = field(default=False)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_head(self, status: int, headers: Mapping[str, str] | None = None) -> None:
        """The status line and headers, nothing more (the script sends the body, or not)."""
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.send_raw(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def respond(self, status: int = 200, body: bytes = b"", headers: Mapping[str, str] | None = None,
                content_type: str = "application/json", close: bool = False) -> None:
        """A complete, well-formed answer; `close` ends the connection after it."""
        head = {"Content-Type": content_type, "Content-Length": str(len(body))}
        if close:
            head["Connection"] = "close"
        head.update(headers or {})
        self.send_head(status, head)
        self.send_raw(body)
        if close:
            self.close()

    def wait_for_client(self, timeout: float = 5.0) -> bool:
        """Block until the client sends more on this connection (True) or closes it (False)."""
        self.sock.settimeout(timeout)
        try:
            return bool(self.sock.recv(1, socket.MSG_PEEK))
        except OSError:
            return False
        finally:
            self.sock.settimeout(None)

    def close(self) -> None:
        """End the connection cleanly (FIN)."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):  # the client may have gone already
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()

    def reset(self) -> None:
        """End the connection abruptly (RST): the client sees 'connection reset'."""
        if not self.closed:
            self.closed = True
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()


Script = Callable[[Exchange], None]


class FaultServer:
    """Serves every request with `script`; keeps connections alive unless the script closes them."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[RawRequest] = []
        self.connections = 0
        self.ended: list[int] = []  # connections the client closed (EOF seen by the server)
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []
        self._stopping = False

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stopping = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                number = self.connections
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(sock, number), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket, connection: int) -> None:
        reader = sock.makefile("rb")
        position = 0
        try:
            while True:
                request = _read_request(reader, connection, position)
                if request is None:
                    with self._lock:
                        self.ended.append(connection)
                    break
                with self._lock:
                    index = len(self.requests)
                    self.requests.append(request)
                exchange = Exchange(request, index, sock)
                self.script(exchange)
                if exchange.closed:
                    return
                position += 1
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.close()


def _read_request(reader: socket.SocketIO | object, connection: int, position: int) -> RawRequest | None:
    line = reader.readline()  # type: ignore[attr-defined]
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        raw = reader.readline()  # type: ignore[attr-defined]
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(reader.readline().split(b";")[0], 16)  # type: ignore[attr-defined]
            if size == 0:
                reader.readline()  # type: ignore[attr-defined]
                break
            body += reader.read(size)  # type: ignore[attr-defined]
            reader.readline()  # type: ignore[attr-defined]
    elif headers.get("content-length"):
        body = reader.read(int(headers["content-length"]))  # type: ignore[attr-defined]
    return RawRequest(method, target, headers, body, connection, position)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `condition` until it holds (for things a server thread does after answering)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
