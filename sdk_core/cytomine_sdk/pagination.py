"""Iterate every item of any list operation, page by page, never truncating.

    from cytomine_sdk.pagination import paginate, pages

    for annotation in paginate(api_client.annotation_api.list, project=42, show_wkt=True):
        ...
    for page in pages(api_client.term_api.list_by_ontology, 7, page_size=200):
        print(page.number, len(page.items), page.total)

Cytomine lists page in two ways (facts.md section 2): `max`/`offset` (legacy envelope, and the
bare arrays of a few endpoints) and, on 2026 repository endpoints, `page`/`size` (which ignore
max/offset and default to 20 items). The style of each operation comes from the spec
(`x-cytomine-paging`); an operation whose style changed between generations gets both parameter
sets, chosen so that either reading asks for the same items. The server's answer is checked:
iteration stops exactly at the total it announces, and a page shorter than announced, or at
another offset than asked, raises IncompleteListError instead of silently losing items.
Memory stays at one page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, overload

from cytomine_sdk.exceptions import CytomineError
from cytomine_sdk_gen.operations import OPERATIONS, Operation

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 2000  # what 2026 repository endpoints accept (Spring Data's limit)
_PAGING_PARAMS = ("max", "offset", "page", "size")


class IncompleteListError(CytomineError):
    """The server's pages do not add up to the total it announced (items would be lost)."""


class Envelope(Protocol[T_co]):
    """A page of a list operation: the generated `<Domain>Collection` models."""

    @property
    def collection(self) -> Sequence[T_co] | None: ...

    @property
    def size(self) -> int | None: ...

    @property
    def offset(self) -> int | None: ...


ListMethod = Callable[..., Envelope[T]] | Callable[..., Sequence[T]]


@dataclass
class Page(Generic[T]):
    """One page of a listing.

    Attributes:
        items: the items of this page.
        total: the total number of items the server announced (None for bare arrays).
        offset: index of the first item of this page in the whole listing.
        number: 0-based number of this page.
    """

    items: list[T]
    total: int | None
    offset: int
    number: int
    _lister: _Lister[T] = field(repr=False)

    @property
    def has_next(self) -> bool:
        """Whether more items follow."""
        if self.total is not None:
            return self.offset + len(self.items) < self.total
        return len(self.items) >= self._lister.page_size  # bare arrays: a short page is the last

    def next_page(self) -> Page[T] | None:
        """Fetch the next page, or None after the last one."""
        if not self.has_next:
            return None
        return self._lister.fetch(self.number + 1, self.offset + len(self.items))


def _operation_of(method: Callable[..., Any]) -> Operation:
    api = getattr(method, "__self__", None)
    verb = getattr(method, "__name__", "")
    class_name = type(api).__name__
    tag = re.sub(r"(?<!^)(?=[A-Z])", "_", class_name.removesuffix("Api")).lower()
    op = OPERATIONS.get(f"{tag}.{verb}")
    if api is None or op is None:
        raise TypeError(
            f"method: expected a list operation of an API client, e.g. api_client.project_api.list; got {method!r}"
        )
    if op.paging is None:
        raise TypeError(f"method: {op.service}.{op.verb} is not a list operation")
    return op


class _Lister(Generic[T]):
    def __init__(self, method: ListMethod[T], page_size: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.op = _operation_of(method)
        clash = sorted(set(kwargs) & set(_PAGING_PARAMS))
        if clash:
            raise TypeError(f"{clash[0]}: paging is done for you; pass page_size= instead")
        limit = MAX_PAGE_SIZE if self.op.paging in ("page-size", "mixed") else None
        if (
            isinstance(page_size, bool)
            or not isinstance(page_size, int)
            or page_size < 1
            or (limit and page_size > limit)
        ):
            raise ValueError(f"page_size: expected an integer from 1 to {limit or 'any'}, got {page_size!r}")
        self.method = method
        self.page_size = page_size
        self.args = args
        self.kwargs = kwargs

    def _paging(self, number: int, offset: int) -> dict[str, int]:
        style = self.op.paging
        if style == "none":
            return {}
        if style == "max-offset":
            return {"max": self.page_size, "offset": offset}
        if style == "page-size":
            return {"page": number, "size": self.page_size}
        # mixed: page x size == offset, so a server reading either pair returns the same items.
        return {"max": self.page_size, "offset": offset, "page": number, "size": self.page_size}

    def fetch(self, number: int, offset: int) -> Page[T]:
        if self.op.paging in ("page-size", "mixed") and offset != number * self.page_size:
            raise IncompleteListError(
                f"{self.op.service}.{self.op.verb}: a short page before the end cannot be followed "
                f"with page/size paging (item {offset} is not the start of page {number})"
            )
        result = self.method(*self.args, **self.kwargs, **self._paging(number, offset))
        if isinstance(result, Sequence):
            return self._checked(list(result), None, offset, number, None)
        items = list(result.collection or [])
        return self._checked(items, result.size, offset, number, result.offset)

    def _checked(
        self, items: list[T], total: int | None, offset: int, number: int, answered_offset: int | None
    ) -> Page[T]:
        name = f"{self.op.service}.{self.op.verb}"
        if self.op.paging == "none":
            return Page(items, len(items), 0, 0, self)
        if answered_offset is not None and answered_offset != offset and items:
            raise IncompleteListError(
                f"{name}: asked for items from {offset}, the server answered from {answered_offset}"
            )
        if total is None:
            return Page(items, None, offset, number, self)
        if len(items) > self.page_size and not (offset == 0 and len(items) >= total):
            raise IncompleteListError(f"{name}: asked for {self.page_size} items, got {len(items)}")
        items = items[: max(total - offset, 0)]  # stop exactly at the announced total
        if offset + len(items) < total and len(items) < self.page_size:
            raise IncompleteListError(
                f"{name}: the server announced {total} items but answered {len(items)} from item {offset} "
                f"(page size {self.page_size}); the list would be truncated"
            )
        return Page(items, total, offset, number, self)


@overload
def pages(
    method: Callable[..., Envelope[T]], /, *args: Any, page_size: int = ..., **kwargs: Any
) -> Iterator[Page[T]]: ...
@overload
def pages(
    method: Callable[..., Sequence[T]], /, *args: Any, page_size: int = ..., **kwargs: Any
) -> Iterator[Page[T]]: ...
def pages(method: ListMethod[T], /, *args: Any, page_size: int = DEFAULT_PAGE_SIZE, **kwargs: Any) -> Iterator[Page[T]]:
    """Every page of a list operation, fetched one at a time.

    `method` is a list operation of the client (e.g. ``api_client.project_api.list``); other
    arguments are passed to it on every call, except paging parameters, which are set here.
    """
    lister = _Lister(method, page_size, args, kwargs)
    page: Page[T] | None = lister.fetch(0, 0)
    while page is not None:
        yield page
        page = page.next_page()


@overload
def paginate(method: Callable[..., Envelope[T]], /, *args: Any, page_size: int = ..., **kwargs: Any) -> Iterator[T]: ...
@overload
def paginate(method: Callable[..., Sequence[T]], /, *args: Any, page_size: int = ..., **kwargs: Any) -> Iterator[T]: ...
def paginate(method: ListMethod[T], /, *args: Any, page_size: int = DEFAULT_PAGE_SIZE, **kwargs: Any) -> Iterator[T]:
    """Every item of a list operation, lazily, one page in memory at a time.

    Raises IncompleteListError if the server's pages do not add up to the total it announced.
    """
    for page in pages(method, *args, page_size=page_size, **kwargs):
        yield from page.items
