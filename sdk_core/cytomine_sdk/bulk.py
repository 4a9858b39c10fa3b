"""Creating, deleting and labelling many annotations, with a report of every item.

    from cytomine_sdk.bulk import NewAnnotation, create_annotations

    report = create_annotations(api_client, [
        NewAnnotation("POLYGON ((0 0, 100 0, 100 100, 0 0))", image=7, terms=[3]),
        NewAnnotation(shapely_polygon, image=7),
        NewAnnotation({"type": "Point", "coordinates": [10, 20]}, image=7),
    ])
    report.raise_for_failures()
    print(report.ids)

Items are checked before any request (a malformed geometry is a ValueError naming the item), sent
in chunks (`chunk_size`) by a few workers at once over the client's connection pool. With shapely
installed (the `geo` extra), all geometries of a call are read at once by shapely, and an invalid
one (a self-intersecting polygon, ...) fails alone, never sent, with shapely's reason. A bulk call
always returns its report, whatever the server or the network does, and every item ends up in
exactly one of:

- `report.created`: done, with its id when the server tells it;
- `report.failed`: not done, with the reason: the server refused it (an error status or error body
  from Cytomine, or a per-item error of a bulk answer, also inside an HTTP 200 with a body status
  of 206 or 400, docs/server-facts.md section 6), the request never left (connection refused), or its
  geometry is invalid (with shapely; never sent). Sending a failed item again cannot duplicate it;
- `report.unknown`: the request went out but its answer was lost or cannot be read (connection
  reset, read timeout, cut or malformed answer, a gateway's 502/504 or a 5xx without Cytomine's
  error body, or a partial answer whose errors do not say which items they are about). The items
  may exist on the server: re-sending them blindly can create duplicates. Reconcile them first,
  e.g. list what exists with ``paginate(api_client.annotation_api.list, image=..., user=...,
  show_wkt=True)`` and send again only the items whose location is not there.

A chunk's failure never affects another chunk. Requests that create are never re-sent by the
client once they may have reached the server (`retry_non_idempotent` is ignored here); refused
connections are still retried.

The defaults (chunks of 500, 4 workers) come from `python bench/bulk.py --sweep --item-ms 1`: 10k
polygons created on the local stub in its own process, made to take 1 ms an item outside its lock
as a real server creates the items of a chunk one by one and works on several requests at once
(items/s, one run on 2 busy cores; raw urllib3 posting chunks of 1000 on one connection: 950/s):

    workers:          1      2      4      8
    chunk of 100    660   1310   2640   4540
    chunk of 250    830   1550   3190   5560
    chunk of 500    880   1780   3230   5020
    chunk of 1000   930   1790   2800   4520

Workers count; chunks past a few hundred do not. Larger chunks bring a chunk's time near the read
timeout (60 s by default: 1000 items at 50 ms each is 50 s) and leave more items of unknown outcome
when an answer is lost: 500 stays under half the read timeout up to 60 ms an item. 4 workers, not
8, as each busy request holds one of the server's threads and database connections that other
users share.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar

from cytomine_sdk.exceptions import APIConnectionError, APIStatusError, CytomineError
from cytomine_sdk.geometry import to_wkt, validate_wkts
from cytomine_sdk.parsing import loads
from cytomine_sdk.progress import Progress, ProgressCallback
from cytomine_sdk.validation import ids as require_ids
from cytomine_sdk.validation import is_positive_int, positive_int

if TYPE_CHECKING:
    from cytomine_sdk.client import ApiClient

DEFAULT_CHUNK_SIZE = 500
DEFAULT_WORKERS = 4
_IDS = re.compile(r"[a-z]+s (\d+(?:,\d+)*)")
# Answered by a proxy in front of the server, which may still have acted on the request.
_GATEWAY_STATUSES = frozenset({502, 504})
_J = TypeVar("_J")


@dataclass
class NewAnnotation:
    """An annotation to create: a geometry (WKT, shapely or GeoJSON) in an image."""

    geometry: Any
    image: int
    terms: Sequence[int] = ()
    slice: int | None = None
    properties: Mapping[str, str] | None = None


@dataclass
class Created:
    """An item done: its position in the input and its id (None when the server did not say)."""

    index: int
    id: int | None


@dataclass
class Failed:
    """An item not done (refused by the server, or never sent), with the reason."""

    index: int
    item: Any
    reason: str


@dataclass
class Unknown:
    """An item that may or may not have been done: its request went out, its answer was lost.

    Reconcile it with what exists on the server before sending it again.
    """

    index: int
    item: Any
    reason: str


@dataclass
class BulkReport:
    """What happened to every item of a bulk operation: each is in exactly one list."""

    created: list[Created] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    unknown: list[Unknown] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every item was done (none failed, none of unknown outcome)."""
        return not self.failed and not self.unknown

    @property
    def ids(self) -> list[int | None]:
        """Ids of the created items, in input order."""
        return [c.id for c in sorted(self.created, key=lambda c: c.index)]

    def raise_for_failures(self) -> None:
        """Raise BulkError if any item failed or has an unknown outcome."""
        if not self.ok:
            raise BulkError(self)


class BulkError(CytomineError):
    """Some items of a bulk operation failed or have an unknown outcome; `report` says which."""

    def __init__(self, report: BulkReport) -> None:
        self.report = report
        total = len(report.created) + len(report.failed) + len(report.unknown)
        message = (
            f"{total} items: {len(report.created)} created, {len(report.failed)} failed, "
            f"{len(report.unknown)} unknown"
        )
        if report.failed:
            first = report.failed[0]
            message += f"; first failed: item {first.index}: {first.reason}"
        if report.unknown:
            first_unknown = report.unknown[0]
            message += (
                f"; first unknown: item {first_unknown.index}: {first_unknown.reason}; items of unknown "
                "outcome may exist on the server: reconcile them with what exists, do not blindly send them again"
            )
        super().__init__(message)


@dataclass
class _Outcome:
    """What one request did to its items."""

    created: list[Created] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    unknown: list[Unknown] = field(default_factory=list)


def _cytomine_error_body(body: Any) -> bool:
    """Whether `body` is an error body of Cytomine itself (docs/server-facts.md section 3), not of a proxy."""
    if not isinstance(body, Mapping):
        return False
    errors = body.get("errors")
    return isinstance(errors, str) or (isinstance(errors, Mapping) and isinstance(errors.get("message"), str))


def _refused(exc: CytomineError) -> bool:
    """Whether the server surely did not act on a request that raised `exc` (so it can be re-sent)."""
    if isinstance(exc, APIConnectionError):
        return not exc.request_sent
    if isinstance(exc, APIStatusError):
        if exc.status < 500:
            return True  # refused before or while processing; nothing was done
        # A 5xx is a refusal only when Cytomine's exception handler wrote it; a gateway's answer
        # (502, 504, or a page without that body) may hide a request the server still completed.
        return exc.status not in _GATEWAY_STATUSES and _cytomine_error_body(exc.errors)
    return False  # an answer that cannot be read or parsed: the request was done or not


def _whole(entries: Iterable[tuple[int, Any]], exc: CytomineError) -> _Outcome:
    """Every item of one request, failed or unknown as `exc` tells."""
    reason = str(exc)
    if _refused(exc):
        return _Outcome(failed=[Failed(i, item, reason) for i, item in entries])
    return _Outcome(unknown=[Unknown(i, item, reason) for i, item in entries])


def _unknown(entries: Iterable[tuple[int, Any]], reason: str) -> _Outcome:
    return _Outcome(unknown=[Unknown(i, item, reason) for i, item in entries])


def _is_bulk_answer(body: Any) -> TypeGuard[Mapping[str, Any]]:
    """Whether `body` answers item by item: `{"data": {...}, "status": ...}` (2025/2026), or the
    legacy data itself, whose `errors` is a list (an error body's is a text or an object)."""
    return isinstance(body, Mapping) and (isinstance(body.get("data"), Mapping) or isinstance(body.get("errors"), list))


def _payload(item: Any, index: int) -> dict[str, Any]:
    """The JSON of one annotation to create, checked but for its WKT, which `validate_wkts` reads
    with all the others at once."""
    try:
        if isinstance(item, NewAnnotation):
            positive_int("image", item.image, "an image id")
            geometry = item.geometry
            # WKT text, the usual case, is used as is: validate_wkts reads it
            location = geometry.strip() if isinstance(geometry, str) else to_wkt(geometry, check=False)
            data: dict[str, Any] = {"location": location, "image": item.image}
            if item.terms:
                data["term"] = [int(t) for t in item.terms]
            if item.slice is not None:
                data["slice"] = item.slice
            if item.properties:
                data["properties"] = dict(item.properties)
            return data
        # Imported only for other items: building the pydantic model class costs 30-45 ms.
        from cytomine_sdk.models import UserAnnotation

        if isinstance(item, UserAnnotation):
            data = item.to_dict()
            data["location"] = to_wkt(data.get("location"), check=False)
            if not isinstance(data.get("image"), int):
                raise ValueError("image: an annotation needs the id of its image")
            return data
        raise ValueError(f"expected NewAnnotation or models.UserAnnotation, got {type(item).__name__}")
    except ValueError as exc:
        raise ValueError(f"annotations[{index}]: {exc}") from None


def _ids_in(message: str | None) -> list[int]:
    match = _IDS.search(message or "")
    return [int(i) for i in match.group(1).split(",")] if match else []


_Chunk = list[tuple[int, Any, dict[str, Any]]]


def _outcome(body: Mapping[str, Any], chunk: _Chunk, http_status: int) -> _Outcome:
    """Items created, failed and unknown according to a bulk answer (see `_is_bulk_answer`)."""
    if isinstance(body.get("data"), Mapping):
        data: Mapping[str, Any] = body["data"]
        status = body.get("status")
    else:  # legacy: the data is the body and the HTTP status is the bulk status
        data, status = body, None
    if not isinstance(status, int):
        status = http_status
    errors = data.get("errors")
    errors = errors if isinstance(errors, list) else []
    result = _Outcome()
    failed_indexes: set[int] = set()
    for error in errors:
        sent = error.get("data") if isinstance(error, Mapping) else None
        reason = str(error.get("message") if isinstance(error, Mapping) else error)
        match = next((i for i, (_, _, p) in enumerate(chunk) if p == sent and i not in failed_indexes), None)
        if match is None:  # the server's copy differs from what was sent: match on the geometry
            match = next(
                (
                    i
                    for i, (_, _, p) in enumerate(chunk)
                    if isinstance(sent, Mapping)
                    and p.get("location") == sent.get("location")
                    and i not in failed_indexes
                ),
                None,
            )
        if match is not None:
            failed_indexes.add(match)
            index, item, _ = chunk[match]
            result.failed.append(Failed(index, item, reason))
    rest = [j for j in range(len(chunk)) if j not in failed_indexes]
    message = str(data.get("message") or "")
    if status >= 400 or (data.get("success") is False and not errors):
        # nothing saved, and the server did not list every item
        result.failed += [Failed(chunk[j][0], chunk[j][1], message or "not saved") for j in rest]
        return result
    ids = _ids_in(message)
    unmatched = len(errors) - len(failed_indexes)
    if unmatched > 0:
        # Some of the rest were refused, the others created, and nothing says which: guessing
        # would mix up ids and failures, so none of them is reported done or refused.
        reason = (
            f"the server refused {unmatched} of these {len(rest)} items without saying which; "
            f"ids created: {','.join(map(str, ids)) or 'not given'}"
        )
        result.unknown += [Unknown(chunk[j][0], chunk[j][1], reason) for j in rest]
        return result
    # Ids are listed in creation order; trust them only when they account for every saved item.
    mapped: Sequence[int | None] = ids if len(ids) == len(rest) else [None] * len(rest)
    result.created += [Created(chunk[j][0], id_) for j, id_ in zip(rest, mapped, strict=True)]
    return result


def _without_post_retries(api_client: ApiClient) -> ApiClient:
    """The client, not re-sending requests that create: a re-sent chunk whose first answer was
    lost would create its items twice. Refused connections are still retried (nothing was sent)."""
    if api_client.configuration.retry_non_idempotent:
        return api_client.with_options(retry_non_idempotent=False)
    return api_client


def create_annotations(
    api_client: ApiClient,
    annotations: Iterable[NewAnnotation | Any],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int = DEFAULT_WORKERS,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
) -> BulkReport:
    """Create many annotations; return what happened to each (see the module documentation).

    Raises ValueError, before any request, for a malformed item; server and network faults end
    up in the report, never as an exception.
    """
    positive_int("chunk_size", chunk_size)
    positive_int("workers", workers)
    items = list(annotations)
    prepared = [(i, item, _payload(item, i)) for i, item in enumerate(items)]  # all checked first
    reasons = validate_wkts([payload["location"] for _, _, payload in prepared], "annotations")
    # Invalid geometries (with shapely: self-intersections, ...) fail alone, never sent.
    invalid = _Outcome(failed=[
        Failed(i, item, f"invalid geometry, not sent: {reason}")
        for (i, item, _), reason in zip(prepared, reasons, strict=True)
        if reason is not None
    ])
    if invalid.failed:
        prepared = [entry for entry, reason in zip(prepared, reasons, strict=True) if reason is None]
    chunks = [prepared[i : i + chunk_size] for i in range(0, len(prepared), chunk_size)]
    api = _without_post_retries(api_client)

    def entries(chunk: _Chunk) -> list[tuple[int, Any]]:
        return [(i, item) for i, item, _ in chunk]

    def send(chunk: _Chunk) -> _Outcome:
        try:
            answer = api.annotation_api.with_raw_response.create_many(
                [p for _, _, p in chunk]  # type: ignore[misc]  # checked JSON, sent as is
            )
            raw = answer.content
        except APIStatusError as exc:
            if _is_bulk_answer(exc.errors):  # legacy servers answer 400 with the bulk data as the body
                return _outcome(exc.errors, chunk, exc.status)
            return _whole(entries(chunk), exc)
        except CytomineError as exc:  # a lost answer included: typed, request_sent tells
            return _whole(entries(chunk), exc)
        try:
            body = loads(raw)
        except ValueError:
            body = None
        if _is_bulk_answer(body) or (isinstance(body, Mapping) and "errors" not in body):
            return _outcome(body, chunk, answer.status_code)
        return _unknown(entries(chunk), f"unexpected answer (HTTP {answer.status_code}): {raw[:200]!r}")

    return _run(chunks, send, entries, workers, len(items), progress, on_progress, invalid)


def _run(
    jobs: list[_J],
    send: Callable[[_J], _Outcome],
    entries: Callable[[_J], list[tuple[int, Any]]],
    workers: int,
    total: int,
    progress: bool,
    on_progress: ProgressCallback | None,
    before: _Outcome | None = None,
) -> BulkReport:
    """Send the jobs, `workers` at a time; the report of them all, with `before` (items settled
    without a request)."""
    report = BulkReport()
    with (
        Progress(total, bar=progress, callback=on_progress, unit="item") as counter,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):

        def add(outcome: _Outcome) -> None:
            report.created += outcome.created
            report.failed += outcome.failed
            report.unknown += outcome.unknown
            counter.advance(len(outcome.created) + len(outcome.failed) + len(outcome.unknown))

        futures = {pool.submit(send, job): job for job in jobs}
        if before is not None and (before.created or before.failed or before.unknown):
            add(before)
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except Exception as exc:  # a bug must not lose the other jobs' report
                outcome = _unknown(entries(futures[future]), f"unexpected error: {type(exc).__name__}: {exc}")
            add(outcome)
    report.created.sort(key=lambda c: c.index)
    report.failed.sort(key=lambda f: f.index)
    report.unknown.sort(key=lambda u: u.index)
    return report


def add_terms(
    api_client: ApiClient,
    associations: Iterable[tuple[int, int]],
    *,
    workers: int = DEFAULT_WORKERS,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
) -> BulkReport:
    """Give terms to user annotations: `associations` are (annotation id, term id) pairs.

    The servers take one association per request (no array form), so they are sent a few at a
    time; the report lists each pair created (with the association's id), failed or unknown.
    """
    from cytomine_sdk.models import AnnotationTerm

    pairs = list(associations)
    for position, pair in enumerate(pairs):
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(is_positive_int(v) for v in pair)):
            raise ValueError(f"associations[{position}]: expected (annotation id, term id), got {pair!r}")
    positive_int("workers", workers)
    api = _without_post_retries(api_client)

    def entries(entry: tuple[int, tuple[int, int]]) -> list[tuple[int, Any]]:
        return [entry]

    def send(entry: tuple[int, tuple[int, int]]) -> _Outcome:
        index, (annotation, term) = entry
        try:
            # Spring cores read the ids from the body, legacy ones from the path: send both.
            result = api.annotation_term_api.create(
                annotation, term, AnnotationTerm(userannotation=annotation, term=term)
            )
        except CytomineError as exc:
            return _whole([entry], exc)
        return _Outcome(created=[Created(index, result.id)])

    return _run(list(enumerate(pairs)), send, entries, workers, len(pairs), progress, on_progress)


def delete_annotations(
    api_client: ApiClient,
    ids: Iterable[int],
    *,
    workers: int = DEFAULT_WORKERS,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
) -> BulkReport:
    """Delete annotations by id, a few at a time; the report lists each id deleted, failed or unknown.

    Deleting is idempotent: ids of unknown outcome can simply be deleted again (one already
    deleted then fails with 404).
    """
    id_list = require_ids("ids", ids, "an annotation id")
    positive_int("workers", workers)

    def entries(entry: tuple[int, int]) -> list[tuple[int, Any]]:
        return [entry]

    def send(entry: tuple[int, int]) -> _Outcome:
        index, annotation_id = entry
        try:
            api_client.annotation_api.delete(annotation_id)
        except CytomineError as exc:
            return _whole([entry], exc)
        return _Outcome(created=[Created(index, annotation_id)])

    return _run(list(enumerate(id_list)), send, entries, workers, len(id_list), progress, on_progress)
