"""Request/response plumbing of the stub: what a handler receives and answers, and its routes.

A handler is ``handler(stub, request) -> Response`` (:data:`Handler`); it may raise
:class:`HttpError` to answer at once. :func:`route` makes a :class:`Route` of a method, a path
template (``{x}`` digits, ``{x:str}`` one segment) and the generations serving it; the stub
records each request it received as a :class:`RecordedRequest`.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import _auth as server_auth

if TYPE_CHECKING:
    from ._cytomine_stub import CytomineStub
    from ._state import StubUser

JsonObject = dict[str, Any]

ALL_GENERATIONS: frozenset[str] = frozenset(server_auth.GENERATIONS)

BODY_PARSE_ERROR = "The body cannot be parsed, is the body content in the good format?"


@dataclass
class Request:
    """One request as a handler sees it."""

    method: str
    raw_target: str  # exactly as received, still percent-encoded
    path: str  # raw path (no query), not decoded
    query: dict[str, list[str]]  # decoded multi-dict
    headers: dict[str, str]  # lower-case names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # path placeholders
    user: StubUser | None = None  # authenticated caller
    _json: Any = field(default=None, repr=False)
    _json_parsed: bool = field(default=False, repr=False)

    @property
    def args(self) -> dict[str, str]:
        """Query parameters, first value of each."""
        return {name: values[0] for name, values in self.query.items() if values}

    def arg(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    def path_int(self, name: str) -> int:
        """Path placeholder ``name`` as an int."""
        return int(self.params[name])

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header ("" if absent)."""
        return self.headers.get("content-type", "")

    @property
    def json(self) -> Any:
        """The body parsed as JSON (None for an empty body); 400 if it is not JSON."""
        if not self._json_parsed:
            text = self.body.decode("utf-8", errors="replace").strip()
            try:
                self._json = json.loads(text) if text else None
            except ValueError:
                raise HttpError(error_message_response(400, BODY_PARSE_ERROR)) from None
            self._json_parsed = True
        return self._json

    def json_object(self) -> JsonObject:
        """The body as a JSON object; 400 in the servers' shape if it is not one."""
        body = self.json
        if not isinstance(body, dict):
            raise HttpError(error_message_response(400, BODY_PARSE_ERROR))
        return body


@dataclass
class Response:
    """An answer of the stub: status, body and headers (``Content-Length`` is added when sent).

    ``delay`` (seconds to wait before answering) and ``reset_after`` (bytes of the body sent
    before the connection is reset) are set by injected faults and honoured by the HTTP server.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset_after: int | None = None

    def json(self) -> Any:
        """The body parsed as JSON (None for an empty body)."""
        return json.loads(self.body) if self.body else None


class HttpError(Exception):
    """Raised by handlers to answer with ``response`` straight away."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response


@dataclass(frozen=True)
class RecordedRequest:
    """A request the stub received, for assertions in tests."""

    method: str
    raw_target: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int = 0  # status the stub answered with
    principal: str | None = None  # username of the authenticated caller
    fault: bool = False  # an injected fault (CytomineStub.fail) altered the answer

    def json(self) -> Any:
        """The request body parsed as JSON (None for an empty body)."""
        return json.loads(self.body) if self.body else None

    @property
    def args(self) -> dict[str, str]:
        """Query parameters, first value of each."""
        return {name: values[0] for name, values in self.query.items() if values}


Handler = Callable[["CytomineStub", Request], Response]


@dataclass(frozen=True)
class Route:
    """A route of the stub: ``method template`` served by ``handler`` on ``generations``."""

    method: str
    template: str
    handler: Handler
    generations: frozenset[str]
    public: bool
    pattern: re.Pattern[str]


_PLACEHOLDER = re.compile(r"\{(?P<name>[A-Za-z_]\w*)(?::(?P<kind>int|str))?\}")


def _compile_template(template: str) -> re.Pattern[str]:
    """``/api/project/{id}.json`` -> regex; ``{x}``/``{x:int}`` digits, ``{x:str}`` one segment."""
    parts: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        body = r"[^/]+" if match.group("kind") == "str" else r"\d+"
        parts.append(f"(?P<{match.group('name')}>{body})")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts))


def route(
    method: str,
    template: str,
    handler: Handler,
    *,
    generations: Iterable[str] = ALL_GENERATIONS,
    public: bool = False,
) -> Route:
    """A :class:`Route`; ``{x}``/``{x:int}`` placeholders match digits, ``{x:str}`` one segment."""
    gens = frozenset(generations)
    unknown = gens - ALL_GENERATIONS
    if unknown:
        raise ValueError(f"unknown generations {sorted(unknown)}")
    return Route(method.upper(), template, handler, gens, public, _compile_template(template))


def json_response(
    payload: Any,
    status: int = 200,
    *,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON answer."""
    all_headers = {"Content-Type": content_type}
    if headers:
        all_headers.update(headers)
    return Response(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), all_headers)


def empty_response(status: int) -> Response:
    """An answer without body (the servers' 401)."""
    return Response(status, b"", {})


def error_message_response(status: int, message: str) -> Response:
    """``{"errors":{"message":...}}`` (Spring ApiExceptionHandler / Grails responseNotFound)."""
    return json_response({"errors": {"message": message}}, status)


def parse_multipart(content_type: str, body: bytes) -> list[tuple[str, str | None, bytes]]:
    """(field name, filename, content) of each part of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return []
    parts: list[tuple[str, str | None, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str):
            parts.append((name, part.get_filename(), payload if isinstance(payload, bytes) else b""))
    return parts
