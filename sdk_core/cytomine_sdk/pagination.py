"""Whole lists from paged list operations, never truncated.

Every list operation returns a `Page` that stands for the whole list:

    terms = api_client.term_api.list_by_ontology(7)
    len(terms)                     # the server's total
    for term in terms: ...         # every item of every page, fetched one page at a time
    terms[0], terms.items          # the page in hand
    for page in terms.iter_pages(): print(page.number, len(page.items))

Cytomine lists page in two ways (facts.md section 2): `max`/`offset` (legacy envelope, and the
bare arrays of a few endpoints) and, on 2026 repository endpoints, `page`/`size` (which ignore
max/offset and default to 20 items). The style of each operation comes from the spec
(`x-cytomine-paging`); an operation whose style changed between generations gets both parameter
sets, chosen so that either reading asks for the same items. The server's answer is checked:
iteration stops exactly at the total it announces, and a page shorter than announced, or at
another offset than asked, raises IncompleteListError instead of silently losing items. Memory
stays at one page. Passing `max`/`offset`/`page`/`size` yourself asks for exactly that page: it
is returned alone and iterates only its items.

`paginate(method, *args, page_size=..., **kwargs)` and `pages(...)` iterate the items or the pages
of a list operation with a chosen page size (default 1000).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

from cytomine_sdk.exceptions import CytomineError
from cytomine_sdk_gen.operations import OPERATIONS, Operation
from cytomine_sdk_gen.runtime import Listing

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 2000  # what 2026 repository endpoints accept (Spring Data's limit)
PAGING_PARAMS = ("max", "offset", "page", "size")

OnePage = tuple[list[Any], "int | None", "int | None"]
"""What one request of a list answers: its items, the total announced, the offset answered."""


class IncompleteListError(CytomineError):
    """The server's pages do not add up to the total it announced (items would be lost)."""


@dataclass
class Page(Generic[T]):
    """A page of a listing, standing for the whole list (see the module documentation).

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
    _lister: Lister[T] = field(repr=False)
    _answered: int | None = field(default=None, repr=False)  # the offset the server answered

    @property
    def has_next(self) -> bool:
        """Whether more items follow (False for a page asked for explicitly)."""
        if self._lister.single:
            return False
        if self.total is not None:
            return self.offset + len(self.items) < self.total
        return len(self.items) >= self._lister.page_size  # bare arrays: a short page is the last

    def has_next_page(self) -> bool:
        """Whether more items follow."""
        return self.has_next

    def next_page(self) -> Page[T] | None:
        """Fetch the next page, or None after the last one."""
        if not self.has_next:
            return None
        return self._lister.fetch(self.number + 1, self.offset + len(self.items))

    def iter_pages(self) -> Iterator[Page[T]]:
        """This page and the ones after it, each fetched when reached."""
        page: Page[T] | None = self
        while page is not None:
            yield page
            page = page.next_page()

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.items

    def __len__(self) -> int:
        if self._lister.single or self.total is None:
            return len(self.items) if self._lister.single else sum(len(p.items) for p in self.iter_pages())
        return max(self.total - self.offset, 0)

    def __getitem__(self, index: int) -> T:
        return self.items[index]

    def __repr__(self) -> str:
        # Not the dataclass repr: a page holds up to 1000 items.
        op = self._lister.op
        total = "?" if self.total is None else self.total
        return (
            f"<Page {self.number} of {op.service}.{op.verb}(): items {self.offset}-"
            f"{self.offset + len(self.items)} of {total}>"
        )


class Lister(Generic[T]):
    """Fetches the pages of one listing: `call` sends the operation with the given paging
    arguments and answers (items, total, offset answered)."""

    def __init__(self, op: Operation, page_size: int, call: Callable[[dict[str, int]], OnePage],
                 single: bool = False) -> None:
        limit = MAX_PAGE_SIZE if op.paging in ("page-size", "mixed") else None
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1 or (
            limit and page_size > limit
        ):
            raise ValueError(f"page_size: expected an integer from 1 to {limit or 'any'}, got {page_size!r}")
        self.op = op
        self.page_size = page_size
        self.call = call
        self.single = single

    def paging(self, number: int, offset: int) -> dict[str, int]:
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
        items, total, answered = self.call(self.paging(number, offset))
        return self.checked(items, total, offset, number, answered)

    def checked(self, items: list[T], total: int | None, offset: int, number: int, answered: int | None) -> Page[T]:
        name = f"{self.op.service}.{self.op.verb}"
        if self.op.paging == "none" or self.single:
            return Page(items, total if total is not None else len(items), offset, number, self, answered)
        if answered is not None and answered != offset and items:
            raise IncompleteListError(f"{name}: asked for items from {offset}, the server answered from {answered}")
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
        return Page(items, total, offset, number, self, answered)


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


ListMethod = Callable[..., Listing[T]] | Callable[..., Sequence[T]]


@overload
def pages(
    method: Callable[..., Listing[T]], /, *args: Any, page_size: int = ..., **kwargs: Any
) -> Iterator[Page[T]]: ...
@overload
def pages(
    method: Callable[..., Sequence[T]], /, *args: Any, page_size: int = ..., **kwargs: Any
) -> Iterator[Page[T]]: ...
def pages(
    method: ListMethod[T], /, *args: Any, page_size: int = DEFAULT_PAGE_SIZE, **kwargs: Any
) -> Iterator[Page[T]]:
    """Every page of a list operation, `page_size` items each, fetched one at a time.

    `method` is a list operation of the client (e.g. ``api_client.project_api.list``); other
    arguments are passed to it on every call, except paging parameters, which are set here.
    """
    op = _operation_of(method)
    clash = sorted(set(kwargs) & set(PAGING_PARAMS))
    if clash:
        raise TypeError(f"{clash[0]}: paging is done for you; pass page_size= instead")

    def call(paging: dict[str, int]) -> OnePage:
        # Each page asked for explicitly: the method answers exactly it (a Page, or a list).
        answer = method(*args, **kwargs, **paging)
        if isinstance(answer, Page):
            return answer.items, answer.total, answer._answered
        return list(answer), None, None

    yield from Lister[T](op, page_size, call).fetch(0, 0).iter_pages()


@overload
def paginate(method: Callable[..., Listing[T]], /, *args: Any, page_size: int = ..., **kwargs: Any) -> Iterator[T]: ...
@overload
def paginate(method: Callable[..., Sequence[T]], /, *args: Any, page_size: int = ..., **kwargs: Any) -> Iterator[T]: ...
def paginate(method: ListMethod[T], /, *args: Any, page_size: int = DEFAULT_PAGE_SIZE, **kwargs: Any) -> Iterator[T]:
    """Every item of a list operation, lazily, one page of `page_size` in memory at a time (the
    list operations themselves do the same with pages of 1000: ``for x in api.term_api.list()``).

    Raises IncompleteListError if the server's pages do not add up to the total it announced.
    """
    for page in pages(method, *args, page_size=page_size, **kwargs):
        yield from page.items
