"""The contract between the generated API classes and the client that runs them.

Copied verbatim into the generated package by `make generate` (generator/static/runtime.py).
The generated code is data (the operation table, `operations.py`) and thin typed methods
(`api/*.py`) that hand their arguments to an `Invoke`; the hand-written client (cytomine_sdk)
implements `Invoke` and knows nothing else of the generated code. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, NamedTuple, ParamSpec, Protocol, TypeVar

T_co = TypeVar("T_co", covariant=True)
P = ParamSpec("P")
R = TypeVar("R")

Timeout = float | tuple[float, float] | None
"""A number of seconds for the connect and the read timeouts each, or a (connect, read) pair."""
Query = Mapping[str, object] | None
"""Extra query parameters, sent (and signed) like declared ones: lists repeat the parameter."""
Headers = Mapping[str, str] | None
"""Extra request headers."""
ExtraBody = Mapping[str, object] | None
"""Fields merged into a JSON object body."""

Location = Literal["path", "query", "header", "form", "file"]


class Param(NamedTuple):
    """One argument of an operation (the body excepted)."""

    name: str  # the Python argument name
    wire: str  # the name on the wire (path template key, query key, header, form field)
    location: Location
    kind: str  # "int", "float", "str", "bool", "date-time", "list[int]", "list[str]", an enum ...
    required: bool
    # Lists in a query: "csv" (one parameter, comma-separated) or "multi" (the parameter repeated).
    collection: Literal["csv", "multi"] | None = None
    enum: tuple[str, ...] | None = None  # allowed values of a string (servers may add more)
    minimum: float | None = None  # bounds of a number (spec: minimum, maximum)
    maximum: float | None = None


class Body(NamedTuple):
    """The request body of an operation."""

    name: str  # the Python argument name
    content_type: str  # "application/json", "multipart/form-data", ...
    kind: str  # a model name, "list[Model]", "object", "list[object]", "bytes"
    required: bool


class Operation(NamedTuple):
    """Everything the client needs to run one operation."""

    id: str  # "<tag>.<verb>"
    service: str  # the API client attribute, e.g. "project_api"
    verb: str  # the method name
    method: str  # HTTP method
    path: str  # path template, e.g. "/api/project/{id}.json"
    server: str  # "" (the core), "{pims}" or "{pims}/ims" (the image server)
    servers: tuple[str, ...]  # the server generations that serve it: "2026", "2025", "legacy"
    paging: str | None  # "max-offset", "page-size", "mixed" or None
    command_key: str | None
    empty_body: bool  # a server may answer the success body empty (returns None)
    params: tuple[Param, ...]
    body: Body | None
    # Declared answer per status ("200", "2XX", "default"...): a model name, "list[Model]",
    # "bytes" (binary), "str", "object", "dict[str, object]", "list[object]", or None (no body).
    responses: Mapping[str, str | None]
    returns: str | None  # the success answer's kind, as above
    # List operations (paging): the kind of the listed items; the method returns a Listing of
    # them (or, for a bare JSON array, a list of every item).
    item: str | None = None
    # Writes answering a command envelope: the kind of the object under `command_key` (or
    # `data`, 2026), which the method returns.
    result: str | None = None


class Invoke(Protocol):
    """Runs an operation: validates, sends, parses (implemented by cytomine_sdk's client)."""

    def __call__(
        self,
        op: Operation,
        args: Sequence[Any],
        timeout: Timeout = None,
        extra_query: Query = None,
        extra_headers: Headers = None,
        extra_body: ExtraBody = None,
    ) -> Any:
        """`args` are the operation's arguments in the order of `op.params`, then the body."""
        ...

    @property
    def raw(self) -> Invoke:
        """The same, answering a RawResponse instead of the parsed answer."""
        ...

    @property
    def streaming(self) -> Invoke:
        """The same, answering a StreamedResponse (body unread) instead of the parsed answer."""
        ...


class RawResponse(Protocol[T_co]):
    """An answer read whole, not yet parsed (``api.with_raw_response.<operation>(...)``)."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> bytes: ...
    def parse(self) -> T_co:
        """The answer as the operation declares it (what the plain method returns)."""
        ...


class Listing(Protocol[T_co]):
    """What a list operation returns: the whole list, a page in hand, the next ones fetched as it
    is iterated. ``len()`` is the number of items iteration yields (the server's total, or the
    page's size when a page was asked for explicitly); indexing reads the page in hand."""

    @property
    def items(self) -> Sequence[T_co]:
        """The items of the page in hand."""
        ...

    @property
    def total(self) -> int | None:
        """The number of items the server announced (None when it does not say)."""
        ...

    def __iter__(self) -> Iterator[T_co]: ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int) -> T_co: ...
    def has_next_page(self) -> bool: ...
    def next_page(self) -> Listing[T_co] | None: ...
    def iter_pages(self) -> Iterator[Listing[T_co]]: ...


class StreamedResponse(Protocol):
    """An answer whose body is not read yet (``api.with_streaming_response.<operation>(...)``);
    use it in a ``with`` block, or close it."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    def iter_bytes(self, chunk_size: int = ...) -> Iterator[bytes]: ...
    def read(self) -> bytes: ...
    def close(self) -> None: ...
    def __enter__(self) -> StreamedResponse: ...
    def __exit__(self, *exc: object) -> None: ...


def as_raw(method: Callable[P, R]) -> Callable[P, RawResponse[R]]:
    """`method`, bound to an API built over `Invoke.raw`: typed as answering RawResponse."""
    return method  # type: ignore[return-value]  # the Invoke it runs on answers RawResponse


def as_streamed(method: Callable[P, Any]) -> Callable[P, StreamedResponse]:
    """`method`, bound to an API built over `Invoke.streaming`: typed as answering StreamedResponse."""
    return method
