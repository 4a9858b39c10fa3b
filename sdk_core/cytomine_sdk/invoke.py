"""Running an operation of the table: check the arguments, build the request, send, parse.

Every generated method is one call of `Invoker` with its `Operation` (sdk/cytomine_sdk_gen/
operations.py) and its arguments; this module is the only code that turns them into HTTP. The
client (`cytomine_sdk.client`) signs, sends and retries; the answer is parsed here, leniently
(`cytomine_sdk.parsing`), into what the operation declares.
"""

from __future__ import annotations

import functools
import json
import numbers
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlencode

import urllib3
from pydantic import BaseModel
from urllib3.exceptions import HTTPError

from cytomine_sdk.exceptions import (
    APIStatusError,
    BearerTokenRequiredError,
    InvalidArgumentError,
    InvalidResponseError,
)
from cytomine_sdk.multipart import MultipartBody, Part
from cytomine_sdk.pagination import DEFAULT_PAGE_SIZE, PAGING_PARAMS, Lister, OnePage
from cytomine_sdk.parsing import (
    LARGE_ANSWER,
    EmptyAnswerError,
    collector_paused,
    loads,
    loads_large,
    parse_model,
    parse_model_list,
    validate_lenient,
    validate_value_list,
    validate_values,
)
from cytomine_sdk_gen.runtime import ExtraBody, Headers, Operation, Param, Query, Timeout

if TYPE_CHECKING:
    from cytomine_sdk.client import ApiClient

Mode = Literal["parsed", "raw", "streaming"]
# What a released answer keeps of its body (RawAnswer.page): enough for an error message's excerpt.
KEPT_OF_RELEASED = 1 << 16
# Per operation id: the positions of its query-token parameters (most operations have none).
_TOKEN_SLOTS: dict[str, list[tuple[int, Param]]] = {}


class Invoker:
    """Runs operations for one client; `raw` and `streaming` answer without parsing."""

    __slots__ = ("_client", "_mode", "_raw", "_streaming")

    def __init__(self, client: ApiClient, mode: Mode = "parsed") -> None:
        self._client = client
        self._mode: Mode = mode
        self._raw: Invoker | None = None
        self._streaming: Invoker | None = None

    @property
    def raw(self) -> Invoker:
        if self._raw is None:
            self._raw = Invoker(self._client, "raw")
        return self._raw

    @property
    def streaming(self) -> Invoker:
        if self._streaming is None:
            self._streaming = Invoker(self._client, "streaming")
        return self._streaming

    def __call__(
        self,
        op: Operation,
        args: Sequence[Any],
        timeout: Timeout = None,
        extra_query: Query = None,
        extra_headers: Headers = None,
        extra_body: ExtraBody = None,
    ) -> Any:
        """Send `op` with `args` (in the order of `op.params`, then the body)."""
        if op.item is not None and self._mode == "parsed":
            return self._listing(op, args, timeout, extra_query, extra_headers)
        tokens = _TOKEN_SLOTS.get(op.id)
        if tokens is None:
            tokens = _TOKEN_SLOTS[op.id] = [
                (i, p) for i, p in enumerate(op.params) if p.location == "query" and p.wire in QUERY_TOKENS
            ]
        if tokens:
            args = self._with_query_token(op, args, tokens)
        method, url, headers, body = build_request(op, args, extra_query, extra_headers, extra_body)
        client = self._client
        binary = op.returns == "bytes"
        try:
            if self._mode == "streaming":
                return StreamedAnswer(op, client.send(method, url, headers=headers, body=body, timeout=timeout))
            got = client.fetch(method, url, headers=headers, body=body, timeout=timeout, binary=binary)
        except APIStatusError as exc:
            if tokens and exc.status in (400, 500) and client.bearer_token() is None and client.signs:
                # 2025 answers 400 "Required request parameter 'Authorization'", 2026 thumbs 500.
                raise BearerTokenRequiredError(_token_required(op, None)) from exc
            hint = _not_served(client, op) if exc.status in (404, 405) else None
            if hint is None:
                raise
            raise exc.with_hint(hint) from None
        answer = RawAnswer(op, method, got.url, got.status, got.headers, got.content)
        return answer if self._mode == "raw" else answer.parse()

    def _with_query_token(self, op: Operation, args: Sequence[Any], tokens: list[tuple[int, Param]]) -> Sequence[Any]:
        """`args` with the client's bearer token in the query parameters that carry it, unless the
        caller gave one; on a client without a token, an error where the server needs it."""
        client = self._client
        if any(i < len(args) and args[i] is not None for i, _ in tokens) or client.server_generation == "legacy":
            return args  # given by the caller; legacy servers read no query token
        token = client.bearer_token()
        if token is None:
            # Known (whoami) to be a server reading the token: refused before sending; else the
            # request goes, and the server's 400/500 becomes the same error (see __call__).
            generation = client.server_generation
            if generation is not None and any(QUERY_TOKENS[p.wire] == generation for _, p in tokens):
                raise BearerTokenRequiredError(_token_required(op, generation))
            return args
        filled = list(args) + [None] * (len(op.params) - len(args))
        for i, _ in tokens:
            filled[i] = token  # both names: each server generation reads its own, ignores the other
        return filled

    def _listing(self, op: Operation, args: Sequence[Any], timeout: Timeout, extra_query: Query,
                 extra_headers: Headers) -> Any:
        """A list operation: the whole list (a Page fetching the next ones as it is iterated), or
        exactly the page asked for when paging arguments are given; a bare array: a list."""
        slots = {p.name: i for i, p in enumerate(op.params) if p.name in PAGING_PARAMS}
        explicit = any(args[i] is not None for i in slots.values() if i < len(args))

        def call(paging: dict[str, int]) -> OnePage:
            sent = list(args)
            for name, value in paging.items():
                sent[slots[name]] = value
            answer: RawAnswer = self.raw(op, sent, timeout, extra_query, extra_headers)
            return answer.page(release=True)  # this answer is ours alone: its body may go early

        asked = [args[slots[n]] for n in ("max", "size") if n in slots]
        size = next((v for v in asked if isinstance(v, int) and not isinstance(v, bool) and v > 0), DEFAULT_PAGE_SIZE)
        lister: Lister[Any] = Lister(op, size, call, single=explicit)
        if explicit:
            items, total, answered = call({})
            first = lister.checked(items, total, answered or 0, 0, answered)
        else:
            first = lister.fetch(0, 0)
        if (op.returns or "").startswith("list["):
            return list(first)  # a bare array: every item of every page
        return first


# The query parameters from which 2026 (`authorization`) and 2025 (`Authorization`) servers read
# the user of original downloads and thumbnails: a bearer JWT (docs/server-facts.md sections 1.1 and 5).
QUERY_TOKENS = {"authorization": "2026", "Authorization": "2025"}


def _token_required(op: Operation, generation: str | None) -> str:
    servers = f"{generation} servers read" if generation else "this server reads"
    return (
        f"{_where(op)}: {servers} the user of this endpoint from a bearer token in the query, and a "
        "client signing with API keys has none (the SDK never forges one): log in with "
        "Configuration(username=..., password=...) (CYTOMINE_USERNAME and CYTOMINE_PASSWORD, or "
        "--username in scripts), or give a token with Configuration(token=...) (CYTOMINE_TOKEN, "
        "--token)"
    )


def _not_served(client: ApiClient, op: Operation) -> str | None:
    """Why a 404/405 may be the operation's absence from the server's generation, if it is."""
    known = client.server_generation
    if known is not None:
        generations: set[str] = {known}
    elif client.signs and client.generation == "2026":
        generations = {"2026"}  # only a 2026 core accepts the 2026 signature on /api paths
    elif client.signs:
        generations = {"2025", "legacy"}
    else:
        return None
    if not op.servers or generations & set(op.servers):
        return None
    served = ", ".join(op.servers)
    return f"{_where(op)} is not served by {' or '.join(sorted(generations))} servers (only by {served})"


# -- requests ------------------------------------------------------------------------------------

def _where(op: Operation) -> str:
    return f"{op.service}.{op.verb}()"


def _describe(value: object) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '...' if len(text) > 60 else text}"


def _check(op: Operation, param: Param, value: Any) -> Any:
    """`value` as sent for `param`, or InvalidArgumentError naming the method and argument."""
    kind = param.kind
    if type(value) is int and kind == "int" and param.minimum is None and param.maximum is None:
        return value  # the usual id: nothing to convert or bound
    if kind.startswith("list[") and kind.endswith("]"):
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise InvalidArgumentError(
                f"{_where(op)}: {param.name} must be a list of {kind[5:-1]}, got {_describe(value)}"
            )
        item = param._replace(kind=kind[5:-1])
        return [_check(op, item._replace(name=f"{param.name}[{i}]"), v) for i, v in enumerate(value)]
    if kind == "int":
        if isinstance(value, bool) or not hasattr(value, "__index__"):
            raise InvalidArgumentError(f"{_where(op)}: {param.name} must be an integer, got {_describe(value)}")
        return _bounded(op, param, operator.index(value))  # numpy and pandas integers included
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InvalidArgumentError(f"{_where(op)}: {param.name} must be a number, got {_describe(value)}")
        return _bounded(op, param, float(value))
    if kind == "bool":
        if not isinstance(value, bool) and type(value).__name__ != "bool_":  # numpy.bool_
            raise InvalidArgumentError(f"{_where(op)}: {param.name} must be True or False, got {_describe(value)}")
        return bool(value)
    if kind == "date-time":
        if not isinstance(value, (datetime, date)):
            raise InvalidArgumentError(f"{_where(op)}: {param.name} must be a datetime, got {_describe(value)}")
        return value
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{_where(op)}: {param.name} must be a string, got {_describe(value)}")
    if param.enum and value not in param.enum:
        raise InvalidArgumentError(
            f"{_where(op)}: {param.name} must be one of {', '.join(map(repr, param.enum))}, got {value!r}"
        )
    return value


def _bounded(op: Operation, param: Param, value: float) -> Any:
    if param.minimum is not None and value < param.minimum:
        raise InvalidArgumentError(f"{_where(op)}: {param.name} must be >= {param.minimum:g}, got {value!r}")
    if param.maximum is not None and value > param.maximum:
        raise InvalidArgumentError(f"{_where(op)}: {param.name} must be <= {param.maximum:g}, got {value!r}")
    return value


def _text(value: Any) -> str:
    """A checked value as the servers read it in a path, query, header or form field."""
    if type(value) is int or type(value) is str:
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        return str(int(moment.timestamp() * 1000))  # Cytomine reads dates as epoch milliseconds
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _query_pairs(name: str, value: Any, collection: str | None) -> list[tuple[str, str]]:
    if isinstance(value, list):
        if collection == "multi":
            return [(name, _text(v)) for v in value]
        return [(name, ",".join(_text(v) for v in value))]
    return [(name, _text(value))]


def _model_json(model: BaseModel) -> Any:
    """What a model sends: its generated `to_dict()` (server names, read-only fields left out)."""
    to_dict = getattr(model, "to_dict", None)
    return to_dict() if callable(to_dict) else model.model_dump(by_alias=True, exclude_none=True)


def _json_body(op: Operation, value: Any, extra_body: ExtraBody) -> Any:
    assert op.body is not None
    if isinstance(value, BaseModel):
        data: Any = _model_json(value)
    elif isinstance(value, Mapping):
        data = dict(value)
    elif op.body.kind.startswith("list[") and isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        data = [_model_json(v) if isinstance(v, BaseModel) else v for v in value]
    elif value is None or isinstance(value, (str, int, float, bool)):
        data = value
    else:
        raise InvalidArgumentError(f"{_where(op)}: {op.body.name} must be a {op.body.kind}, got {_describe(value)}")
    if extra_body:
        if not isinstance(data, dict):
            raise InvalidArgumentError(f"{_where(op)}: extra_body needs a JSON object body, not {type(data).__name__}")
        data.update(extra_body)
    return data


def build_request(
    op: Operation, args: Sequence[Any], extra_query: Query, extra_headers: Headers, extra_body: ExtraBody
) -> tuple[str, str, dict[str, str], bytes | MultipartBody | None]:
    """(method, URL below the host or `{pims}`, headers, body) of a call of `op`."""
    path = op.path
    query: list[tuple[str, str]] = []
    headers: dict[str, str] = {"Accept": "application/json"}
    form: list[tuple[str, Any]] = []
    files: list[tuple[Param, Any]] = []
    for param, value in zip(op.params, args, strict=False):
        if value is None:
            if param.required:
                raise InvalidArgumentError(f"{_where(op)}: {param.name} is required")
            continue
        if param.location != "file":
            value = _check(op, param, value)
        if param.location == "path":
            text = _text(value)
            if not (text.isdigit() and text.isascii()):  # digits (ids, most path values) need no quoting
                text = quote(text, safe="")
            path = path.replace("{" + param.wire + "}", text)
        elif param.location == "query":
            query += _query_pairs(param.wire, value, param.collection)
        elif param.location == "header":
            headers[param.wire] = _text(value)
        elif param.location == "form":
            form.append((param.wire, value))
        else:
            files.append((param, value))
    for name, value in (extra_query or {}).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        query += [(str(name), _text(v)) for v in values]
    headers.update(extra_headers or {})
    body: bytes | MultipartBody | None = None
    if files or (form and op.body is None and _is_multipart(op)):
        parts: list[Part] = [(n, _text(v)) for n, v in form]
        for param, value in files:
            parts += _file_parts(op, param, value)
        multipart = MultipartBody(parts)
        headers["Content-Type"] = multipart.content_type
        body = multipart
    elif form:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urlencode([(n, _text(v)) for n, v in form]).encode("ascii")
    elif op.body is not None:
        value = args[len(op.params)] if len(args) > len(op.params) else None
        if value is None and extra_body is None:
            if op.body.required:
                raise InvalidArgumentError(f"{_where(op)}: {op.body.name} is required")
        elif op.body.kind == "bytes":
            if not isinstance(value, bytes):
                raise InvalidArgumentError(f"{_where(op)}: {op.body.name} must be bytes, got {_describe(value)}")
            headers["Content-Type"] = op.body.content_type
            body = value
        else:
            data = _json_body(op, value if value is not None else {}, extra_body)
            headers["Content-Type"] = "application/json"
            body = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode()
    elif extra_body:
        raise InvalidArgumentError(f"{_where(op)}: extra_body: this operation sends no JSON body")
    url = op.server + path
    if query:
        url += "?" + urlencode(query, quote_via=quote, safe=",")
    return op.method, url, headers, body


def _is_multipart(op: Operation) -> bool:
    return any(p.location == "file" for p in op.params)


def _file_parts(op: Operation, param: Param, value: Any) -> list[Part]:
    """A file argument: a path (streamed from disk), bytes, a (file name, bytes) pair, or a list
    of them for a repeated part."""
    if isinstance(value, list):
        return [part for item in value for part in _file_parts(op, param, item)]
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], bytes):
        return [(param.wire, (value[0], value[1]))]
    if isinstance(value, bytes):
        return [(param.wire, (param.wire, value))]
    if isinstance(value, (str, Path)):
        path = Path(value)
        if not path.is_file():
            raise InvalidArgumentError(f"{_where(op)}: {param.name}: no such file {str(path)!r}")
        return [(param.wire, path)]
    raise InvalidArgumentError(
        f"{_where(op)}: {param.name} must be a file path, bytes or a (file name, bytes) pair, got {_describe(value)}"
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _text(value)
    if isinstance(value, BaseModel):
        return _model_json(value)
    if hasattr(value, "__index__"):
        return operator.index(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


# -- answers -------------------------------------------------------------------------------------

class RawAnswer:
    """An answer read whole: `status_code`, `headers`, `content`, and `parse()`."""

    __slots__ = ("_op", "content", "headers", "method", "status_code", "url")

    def __init__(self, op: Operation, method: str, url: str, status: int, headers: Mapping[str, str],
                 content: bytes) -> None:
        self._op = op
        self.method: str = method
        self.url: str = url
        self.status_code: int = status
        self.headers: Mapping[str, str] = headers
        self.content: bytes = content

    def parse(self) -> Any:
        """The answer as the plain method returns it: a write's object taken from its command
        envelope, a list operation's page (only this page), or the declared answer."""
        op = self._op
        if op.item is not None:
            items, total, answered = self.page()
            if (op.returns or "").startswith("list["):
                return items
            lister: Lister[Any] = Lister(op, max(len(items), 1), lambda paging: self.page(), single=True)
            return lister.checked(items, total, 0, 0, answered)
        declared = self.declared()
        if op.result is None or declared is None:
            return declared
        return self._guard(lambda: _written(op, self.content))

    def declared(self) -> Any:
        """The answer parsed as the operation declares it (a command envelope, a page of a list)."""
        op = self._op
        status = str(self.status_code)
        kind = op.responses.get(status, op.responses.get(f"{status[0]}XX", op.returns))
        try:  # not through _guard: this runs on every call, and a closure per call costs
            return parse_answer(kind, self.content, op.empty_body)
        except ValueError as exc:
            raise self._invalid(exc, kind) from exc

    def page(self, release: bool = False) -> OnePage:
        """(items, total, offset answered) of an answer to a list operation. With `release`, a
        large body is let go of once parsed, before its rows become models: it is dead weight
        then (the 89 MB of an 88 MB listing, a sixth of the peak memory), and only the start is
        kept for error messages."""
        declared = self._declared_releasing() if release else self.declared()
        if isinstance(declared, list):
            return declared, None, None
        items = getattr(declared, "collection", None)
        if not isinstance(items, list):
            items = self._guard(lambda: _no_collection(self._op))
        return items, getattr(declared, "size", None), getattr(declared, "offset", None)

    def _declared_releasing(self) -> Any:
        status = str(self.status_code)
        kind = self._op.responses.get(status, self._op.responses.get(f"{status[0]}XX", self._op.returns))
        model, is_list = _model_of(kind) if kind else (None, False)
        if model is None or len(self.content) < LARGE_ANSWER:
            return self.declared()
        with collector_paused():
            data = self._guard(lambda: loads_large(self.content), kind)
            self.content = self.content[:KEPT_OF_RELEASED]
            if is_list:
                return self._guard(lambda: validate_value_list(model, data), kind)
            return self._guard(lambda: validate_values(model, data), kind)

    def _guard(self, parse: Callable[[], Any], kind: str | None = None) -> Any:
        try:
            return parse()
        except ValueError as exc:
            raise self._invalid(exc, kind) from exc

    def _invalid(self, exc: ValueError, kind: str | None) -> InvalidResponseError:
        reason = str(exc) if isinstance(exc, EmptyAnswerError) or kind is None else (
            f"cannot parse the answer as {kind}: {exc}"
        )
        return InvalidResponseError(
            f"{_where(self._op)}: {reason}", status=self.status_code, method=self.method, url=self.url,
            body=self.content,
        )

    def __repr__(self) -> str:
        return f"<RawAnswer {self.method} {self.status_code} {len(self.content)} bytes>"


class StreamedAnswer:
    """An answer whose body is not read yet; use it in a ``with`` block, or close it."""

    __slots__ = ("_op", "_resp")

    def __init__(self, op: Operation, resp: urllib3.BaseHTTPResponse) -> None:
        self._op = op
        self._resp = resp

    @property
    def status_code(self) -> int:
        return self._resp.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._resp.headers

    @property
    def response(self) -> urllib3.BaseHTTPResponse:
        """The underlying urllib3 response (its reads raise urllib3 errors)."""
        return self._resp

    def iter_bytes(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The body, in chunks of at most `chunk_size` bytes; transport errors are typed."""
        try:
            yield from self._resp.stream(chunk_size)
        except HTTPError as exc:
            self.close()
            from cytomine_sdk.client import _transport_error

            raise _transport_error(exc, self._op.method, str(getattr(self._resp, "url", "") or "")) from exc

    def read(self) -> bytes:
        return b"".join(self.iter_bytes())

    def close(self) -> None:
        """Close the answer; a body not read to its end closes its connection."""
        from cytomine_sdk.client import _discard

        if not self._resp.closed:
            _discard(self._resp)
        else:
            self._resp.release_conn()

    def __enter__(self) -> StreamedAnswer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _no_collection(op: Operation) -> Any:
    raise ValueError(f"expected a page of {op.item} (a `collection` list), got none")


def _written(op: Operation, raw: bytes) -> Any:
    """The object a write's command envelope holds: under its command key (2025, legacy), or
    `data` (2026 repository writes); None for an empty answer where one is allowed."""
    assert op.result is not None
    if not raw.strip() and op.empty_body:
        return None
    envelope = loads(raw)
    found = envelope.get(op.command_key) if isinstance(envelope, dict) else None
    if found is None and isinstance(envelope, dict):
        found = envelope.get("data")
    if not isinstance(found, dict):
        if op.method == "DELETE":
            return None  # servers answer a delete with the object, or with a message only
        raise ValueError(f"no {op.command_key!r} object in the server's command envelope")
    from cytomine_sdk_gen import models

    return validate_lenient(getattr(models, op.result), found)


@functools.cache
def _model_of(kind: str) -> tuple[type[BaseModel] | None, bool]:
    """(model, is a list of it) that an answer kind names, such as `Project` or `list[Term]`."""
    from cytomine_sdk_gen import models

    list_of = kind[5:-1] if kind.startswith("list[") else None
    model = getattr(models, list_of or kind, None)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model, list_of is not None
    return None, False


def parse_answer(kind: str | None, raw: bytes, empty_ok: bool) -> Any:
    """`raw` parsed as `kind` (see runtime.Operation.responses); ValueError if it does not fit."""
    if kind is None:
        return None
    if kind == "bytes":
        return raw
    if kind == "str":
        return raw.decode("utf-8", "replace")
    if len(raw) < 5 or raw[:1].isspace() or raw[-1:].isspace():  # else neither empty nor null
        body = raw.strip()
        if body in (b"", b"null"):
            if empty_ok:
                return None
            raise EmptyAnswerError(f"{'null' if body else 'empty'} answer where {kind} was expected")
    model, is_list = _model_of(kind)
    if model is not None:
        return parse_model_list(model, raw) if is_list else parse_model(model, raw)
    data = loads(raw)
    from cytomine_sdk_gen import models

    values = getattr(models, kind[10:-1], None) if kind.startswith("dict[str, ") else None
    if isinstance(values, type) and issubclass(values, BaseModel):  # a map of models
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        return {key: validate_lenient(values, value) for key, value in data.items()}
    if (kind.startswith("list") and not isinstance(data, list)) or (
        kind.startswith("dict") and not isinstance(data, dict)
    ):
        expected = "array" if kind.startswith("list") else "object"
        raise ValueError(f"expected a JSON {expected}, got {type(data).__name__}")
    return data
