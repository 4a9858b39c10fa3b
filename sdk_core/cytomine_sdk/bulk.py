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
in chunks (`chunk_size`) by a few workers at once over the client's connection pool, and every
item ends up in `report.created` (with its id when the server tells it) or `report.failed` (with
the server's reason) — including when the server answers HTTP 200 with a body status of 206 or
400 (facts.md section 6), or a whole chunk fails. Nothing is silently dropped.

The default chunk of 100 was chosen by measurement against the local stub server (3000
annotations, 4 workers): 3.2 s with chunks of 15 (the official clients' size), 0.9 s with 50,
0.6 s with 100, 0.5 s with 250, 0.3-0.4 s with 500-1000. Past 100 the gain is small, while a real
server creates the items of a chunk one by one, so larger chunks approach the read timeout and a
failed chunk costs more to report and redo.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cytomine_sdk.exceptions import APIStatusError, CytomineError
from cytomine_sdk.geometry import to_wkt
from cytomine_sdk.parsing import loads
from cytomine_sdk.progress import Progress, ProgressCallback
from cytomine_sdk.validation import ids as require_ids
from cytomine_sdk.validation import is_positive_int, positive_int

if TYPE_CHECKING:
    from cytomine_sdk.client import ApiClient

DEFAULT_CHUNK_SIZE = 100
DEFAULT_WORKERS = 4
_IDS = re.compile(r"[a-z]+s (\d+(?:,\d+)*)")


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
    """An item created: its position in the input and its id (None when the server did not say)."""

    index: int
    id: int | None


@dataclass
class Failed:
    """An item not created, with the reason."""

    index: int
    item: Any
    reason: str


@dataclass
class BulkReport:
    """What happened to every item of a bulk operation."""

    created: list[Created] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return not self.failed

    @property
    def ids(self) -> list[int | None]:
        """Ids of the created items, in input order."""
        return [c.id for c in sorted(self.created, key=lambda c: c.index)]

    def raise_for_failures(self) -> None:
        """Raise BulkError if any item failed."""
        if self.failed:
            raise BulkError(self)


class BulkError(CytomineError):
    """Some items of a bulk operation failed; `report` says which and why."""

    def __init__(self, report: BulkReport) -> None:
        self.report = report
        first = report.failed[0]
        super().__init__(
            f"{len(report.failed)} of {len(report.failed) + len(report.created)} items failed; "
            f"first: item {first.index}: {first.reason}"
        )


def _payload(item: Any, index: int) -> dict[str, Any]:
    """The JSON of one annotation to create, checked."""
    from cytomine_sdk.models import UserAnnotation

    try:
        if isinstance(item, UserAnnotation):
            data = item.to_dict()
            data["location"] = to_wkt(data.get("location"))
            if not isinstance(data.get("image"), int):
                raise ValueError("image: an annotation needs the id of its image")
            return data
        if not isinstance(item, NewAnnotation):
            raise ValueError(f"expected NewAnnotation or models.UserAnnotation, got {type(item).__name__}")
        positive_int("image", item.image, "an image id")
        data = {"location": to_wkt(item.geometry), "image": item.image}
        if item.terms:
            data["term"] = [int(t) for t in item.terms]
        if item.slice is not None:
            data["slice"] = item.slice
        if item.properties:
            data["properties"] = dict(item.properties)
        return data
    except ValueError as exc:
        raise ValueError(f"annotations[{index}]: {exc}") from None


def _ids_in(message: str | None) -> list[int]:
    match = _IDS.search(message or "")
    return [int(i) for i in match.group(1).split(",")] if match else []


def _outcome(
    body: Mapping[str, Any], chunk: list[tuple[int, Any, dict[str, Any]]]
) -> tuple[list[Created], list[Failed]]:
    """Items created and failed according to a bulk answer ({data, status} or legacy data)."""
    data = body.get("data") if isinstance(body.get("data"), Mapping) else body
    assert isinstance(data, Mapping)
    errors = data.get("errors") or []
    failed: list[Failed] = []
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
            failed.append(Failed(index, item, reason))
    status = body.get("status") if "data" in body else None
    if status == 400 or (status is None and data.get("success") is False and not errors):
        # nothing saved, and the server did not list the items
        failed += [
            Failed(i, item, str(data.get("message") or "not saved"))
            for j, (i, item, _) in enumerate(chunk)
            if j not in failed_indexes
        ]
        return [], failed
    if len(failed_indexes) < len(errors):
        # errors we could not pin on an item: report the unmatched items honestly as unknown
        unknown = [j for j in range(len(chunk)) if j not in failed_indexes][: len(errors) - len(failed_indexes)]
        for j in unknown:
            failed_indexes.add(j)
            failed.append(Failed(chunk[j][0], chunk[j][1], "refused (the server's error did not identify it)"))
    saved = [j for j in range(len(chunk)) if j not in failed_indexes]
    ids = _ids_in(str(data.get("message") or ""))
    # Ids are listed in creation order; trust them only when they account for every saved item.
    mapped = ids if len(ids) == len(saved) else [None] * len(saved)
    created = [Created(chunk[j][0], id_) for j, id_ in zip(saved, mapped, strict=True)]
    return created, failed


def create_annotations(
    api_client: ApiClient,
    annotations: Iterable[NewAnnotation | Any],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int = DEFAULT_WORKERS,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
) -> BulkReport:
    """Create many annotations; return what happened to each (see the module documentation)."""
    positive_int("chunk_size", chunk_size)
    positive_int("workers", workers)
    items = list(annotations)
    prepared = [(i, item, _payload(item, i)) for i, item in enumerate(items)]  # all checked first
    chunks = [prepared[i : i + chunk_size] for i in range(0, len(prepared), chunk_size)]

    def send(chunk: list[tuple[int, Any, dict[str, Any]]]) -> tuple[list[Created], list[Failed]]:
        try:
            response = api_client.annotation_api.create_many_without_preload_content(
                [p for _, _, p in chunk]  # type: ignore[misc]
            )
            body = loads(response.data)
        except APIStatusError as exc:
            body = exc.errors  # legacy servers answer 400 with the bulk data as the body
            if not isinstance(body, Mapping) or not ("errors" in body or "data" in body):
                return [], [Failed(i, item, str(exc)) for i, item, _ in chunk]
        except (CytomineError, ValueError) as exc:
            return [], [Failed(i, item, str(exc)) for i, item, _ in chunk]
        if not isinstance(body, Mapping):
            return [], [Failed(i, item, f"unexpected answer: {body!r:.200}") for i, item, _ in chunk]
        return _outcome(body, chunk)

    return _run(chunks, send, workers, len(items), progress, on_progress)


def _run(
    chunks: list[Any],
    send: Callable[[Any], tuple[list[Created], list[Failed]]],
    workers: int,
    total: int,
    progress: bool,
    on_progress: ProgressCallback | None,
) -> BulkReport:
    report = BulkReport()
    with (
        Progress(total, bar=progress, callback=on_progress, unit="item") as counter,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        for created, failed in pool.map(send, chunks):
            report.created += created
            report.failed += failed
            counter.advance(len(created) + len(failed))
    report.created.sort(key=lambda c: c.index)
    report.failed.sort(key=lambda f: f.index)
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
    time; the report lists each pair created (with the association's id) or failed.
    """
    from cytomine_sdk.models import AnnotationTerm

    pairs = list(associations)
    for position, pair in enumerate(pairs):
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(is_positive_int(v) for v in pair)):
            raise ValueError(f"associations[{position}]: expected (annotation id, term id), got {pair!r}")
    positive_int("workers", workers)

    def send(entry: tuple[int, tuple[int, int]]) -> tuple[list[Created], list[Failed]]:
        index, (annotation, term) = entry
        try:
            # Spring cores read the ids from the body, legacy ones from the path: send both.
            result = api_client.annotation_term_api.create(
                annotation, term, AnnotationTerm(userannotation=annotation, term=term)
            )
        except CytomineError as exc:
            return [], [Failed(index, (annotation, term), str(exc))]
        created = getattr(result, "annotationterm", None) or getattr(result, "data", None)
        return [Created(index, getattr(created, "id", None))], []

    return _run(list(enumerate(pairs)), send, workers, len(pairs), progress, on_progress)


def delete_annotations(
    api_client: ApiClient,
    ids: Iterable[int],
    *,
    workers: int = DEFAULT_WORKERS,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
) -> BulkReport:
    """Delete annotations by id, a few at a time; the report lists each id deleted or failed."""
    id_list = require_ids("ids", ids, "an annotation id")
    positive_int("workers", workers)

    def send(entry: tuple[int, int]) -> tuple[list[Created], list[Failed]]:
        index, annotation_id = entry
        try:
            api_client.annotation_api.delete(annotation_id)
        except CytomineError as exc:
            return [], [Failed(index, annotation_id, str(exc))]
        return [Created(index, annotation_id)], []

    return _run(list(enumerate(id_list)), send, workers, len(id_list), progress, on_progress)
