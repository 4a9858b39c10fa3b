"""Training data: annotation crops and image tiles as map-style datasets (no torch needed).

    from cytomine_sdk.datasets import AnnotationDataset, TileDataset

    crops = AnnotationDataset(api_client, project=42, terms=[3, 4], max_size=256, cache="cache/")
    len(crops)                          # the annotations listed
    sample = crops[0]                   # AnnotationSample(image, mask, label, annotation, image_id)
    sample.image.shape, sample.mask.shape, crops.classes[sample.label]

    tiles = TileDataset(api_client, images=[7, 8], tile_size=512, cache="cache/")
    tile = tiles[0]                     # TileSample(image, mask, image_id, x, y, width, height)

Both are sequences (`len`, `dataset[i]`, iteration) that any loop, a `multiprocessing` pool or a
`torch.utils.data.DataLoader` with `num_workers > 0` can read: they pickle as their listing and the
client's Configuration, and each process opens its own connections on first use (a forked child
never reuses its parent's sockets). Samples hold numpy arrays (the `image` extra: Pillow, numpy).

The listing is made once, when the dataset is built: annotations matching the filters (project,
images, terms, users), each with its geometry and terms, in the order (image, annotation id).
Each `dataset[i]` downloads one crop or window, unless the cache has it.

Labels and masks. Class values are those of `export.export_annotations`: the terms of the project
sorted by id get 1, 2, ...; 0 is "no term". An annotation's label is its first term (among the
`terms` filter when given). An annotation crop's mask is 1 inside the annotation, 0 outside, at
the crop's size: the crop is taken to cover the annotation's bounding box (enlarged by
`increase_area` around its centre), as Cytomine's crop endpoint does. A tile's mask holds the class
values of the annotations over it (the one listed last wins where they overlap; without a term,
or without area, an annotation is not drawn).

The cache (`cache=` a folder) keeps the downloaded image files, named by a hash of everything that
decides their content (server, annotation or image, geometry, format, crop parameters): a second
pass over the dataset makes no request, an interrupted run resumes where it stopped, an edited
annotation gets a new entry. Several processes may fill one cache at once: each file is written
to a temporary name, then renamed into place, so a file under its final name is always complete;
one that cannot be decoded all the same (copied by hand, a disk fault) is downloaded again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from cytomine_sdk.configuration import Configuration
from cytomine_sdk.geometry import wkt_to_geojson
from cytomine_sdk.images import grid
from cytomine_sdk.pagination import paginate
from cytomine_sdk.validation import ids, positive_int

if TYPE_CHECKING:
    from cytomine_sdk.client import ApiClient

__all__ = [
    "AnnotationDataset",
    "AnnotationRecord",
    "AnnotationSample",
    "TileDataset",
    "TileSample",
    "TileWindow",
    "list_annotations",
    "term_classes",
]

DEFAULT_MAX_SIZE = 256
DEFAULT_TILE_SIZE = 512


@dataclass(frozen=True)
class AnnotationRecord:
    """An annotation as listed: what a sample is made from."""

    id: int
    image: int
    project: int | None
    user: int | None
    terms: tuple[int, ...]
    location: str
    """The geometry (WKT, image pixels, origin at the bottom-left corner, y upwards)."""


class AnnotationSample(NamedTuple):
    """One annotation: its crop, its mask, its label (a NamedTuple: DataLoader collates it)."""

    image: Any
    """The crop, a numpy array (rows, columns[, channels])."""
    mask: Any
    """A uint8 numpy array (rows, columns) of the crop's size: 1 inside the annotation, 0 outside."""
    label: int
    """The class value of the annotation's first term (`AnnotationDataset.classes`), 0 without term."""
    annotation: int
    """The annotation's id (`AnnotationDataset.records[i]` has all it was listed with)."""
    image_id: int
    """The id of the image instance the annotation is on."""


class TileWindow(NamedTuple):
    """A window of an image: (x, y) is its top-left corner in full-resolution pixels, rows down."""

    image: int
    x: int
    y: int
    width: int
    height: int


class TileSample(NamedTuple):
    """One tile of an image, with the label mask of the annotations over it."""

    image: Any
    """The window, a numpy array (rows, columns[, channels])."""
    mask: Any
    """A numpy array (rows, columns) of class values (`TileDataset.classes`), None with masks=False."""
    image_id: int
    x: int
    y: int
    width: int
    height: int


def term_classes(api_client: ApiClient, projects: Iterable[int]) -> dict[int, tuple[int, str | None]]:
    """Class values of the terms of `projects`: {term id: (value, name)}, values 1, 2, ... by term id.

    The values `export.export_annotations` writes in its masks (for one project).
    """
    found: dict[int, str | None] = {}
    for project in sorted(set(projects)):
        for term in paginate(api_client.term_api.list_by_project, project):
            if term.id is not None:
                found[term.id] = term.name
    return {term: (value, found[term]) for value, term in enumerate(sorted(found), start=1)}


def list_annotations(
    api_client: ApiClient,
    project: int | None = None,
    *,
    images: Sequence[int] | None = None,
    terms: Sequence[int] | None = None,
    users: Sequence[int] | None = None,
    page_size: int = 1000,
) -> list[AnnotationRecord]:
    """The annotations matching the filters, with geometry and terms, sorted by (image, id).

    At least a project or images. Rows without an id, an image or a geometry are left out (the
    server sends them only for kinds of rows the filters do not ask for).
    """
    if project is None and not images:
        raise ValueError("list_annotations: give a project, or images")
    if project is not None:
        positive_int("project", project, "a project id")
    for name, selection in (("images", images), ("terms", terms), ("users", users)):
        if selection is not None:
            ids(name, selection)
    listing = paginate(
        api_client.annotation_api.list,
        project=project,
        images=list(images) if images else None,
        terms=list(terms) if terms else None,
        users=list(users) if users else None,
        show_wkt=True,
        show_term=True,
        show_meta=True,
        page_size=page_size,
    )
    records = [
        AnnotationRecord(a.id, a.image, a.project, a.user, tuple(a.term or ()), a.location)
        for a in listing
        if a.id is not None and a.image is not None and a.location
    ]
    records.sort(key=lambda r: (r.image, r.id))
    return records


class _Connection:
    """The client a dataset uses in the current process; pickles as its Configuration.

    A forked child inherits its parent's client, whose pooled sockets the parent still uses: a
    process other than the one that made or unpickled the client makes its own.
    """

    def __init__(self, source: ApiClient | Configuration) -> None:
        if isinstance(source, Configuration):
            self.configuration, self._client = source, None
        else:
            self.configuration, self._client = source.configuration, source
        self._pid = os.getpid()
        self._owned = False

    def get(self) -> ApiClient:
        if self._client is None or self._pid != os.getpid():
            from cytomine_sdk.client import ApiClient

            self._client, self._pid, self._owned = ApiClient(self.configuration), os.getpid(), True
        return self._client

    def close(self) -> None:
        # The caller's own client is the caller's to close; only the ones made here are closed.
        if self._client is not None and self._owned and self._pid == os.getpid():
            self._client.close()
        self._client, self._owned = None, False

    def __getstate__(self) -> dict[str, Any]:
        return {"configuration": self.configuration}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.configuration, self._client, self._pid, self._owned = state["configuration"], None, os.getpid(), False


class _Cache:
    """Files by key in a folder, written atomically (temporary name, then rename into place)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    @staticmethod
    def key(*parts: Any) -> str:
        return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()

    def path(self, key: str, suffix: str) -> Path:
        # Two-level folders: a million entries in one folder make listing and lookups slow.
        return self.folder / key[:2] / f"{key}{suffix}"

    def read(self, key: str, suffix: str) -> bytes | None:
        try:
            return self.path(key, suffix).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, key: str, suffix: str, data: bytes) -> None:
        path = self.path(key, suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own per writer: processes filling the same entry never write one file.
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _decode(data: bytes) -> Any:
    try:
        import numpy
        from PIL import Image
    except ImportError as exc:
        raise ImportError("datasets need Pillow and numpy: pip install 'cytomine-sdk[image]'") from exc
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return numpy.asarray(image)


def _fetch_decoded(cache: _Cache | None, key: str, suffix: str, download: Any) -> Any:
    """The decoded image of `key`: from the cache when it holds a readable file, else downloaded
    (and cached)."""
    if cache is not None:
        data = cache.read(key, suffix)
        if data is not None:
            try:
                return _decode(data)
            except (OSError, SyntaxError, ValueError):
                pass  # not a whole image file: downloaded again below, and replaced
    data = download()
    pixels = _decode(data)  # before caching: a file in the cache is one that decodes
    if cache is not None:
        cache.write(key, suffix, data)
    return pixels


def _polygons(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    kind = geometry.get("type")
    if kind == "Polygon":
        return [geometry["coordinates"]]
    if kind == "MultiPolygon":
        return list(geometry["coordinates"])
    if kind == "GeometryCollection":
        return [p for g in geometry.get("geometries", []) for p in _polygons(g)]
    return []  # points and lines have no area: nothing to draw


def _bounds(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    points: list[Sequence[float]] = []

    def walk(value: Any) -> None:
        if value and isinstance(value[0], (int, float)):
            points.append(value)
        else:
            for item in value:
                walk(item)

    for part in geometry.get("geometries", [geometry]):
        walk(part.get("coordinates", []))
    if not points:
        raise ValueError("empty geometry")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _rasterize(width: int, height: int, shapes: Iterable[tuple[dict[str, Any], int]], to_pixels: Any) -> Any:
    """A (height, width) array with each geometry's polygons (holes cut out) painted its value, in order."""
    import numpy
    from PIL import Image, ImageDraw

    shapes = list(shapes)
    top = max((value for _, value in shapes), default=0)
    out = Image.new("I;16" if top > 255 else "L", (width, height), 0)
    for geometry, value in shapes:
        for rings in _polygons(geometry):
            if not rings:
                continue
            # Polygon minus holes drawn alone, then painted: a hole shows what is below it.
            shape = Image.new("1", (width, height), 0)
            pen = ImageDraw.Draw(shape)
            pen.polygon([to_pixels(p[0], p[1]) for p in rings[0]], fill=1)
            for hole in rings[1:]:
                pen.polygon([to_pixels(p[0], p[1]) for p in hole], fill=0)
            out.paste(value, (0, 0, width, height), shape)
    return numpy.asarray(out)


def _label(terms: Sequence[int], wanted: Sequence[int] | None, values: dict[int, int]) -> int:
    for term in terms:
        if (wanted is None or term in wanted) and term in values:
            return values[term]
    return 0


class AnnotationDataset(Sequence[AnnotationSample]):
    """Annotation crops with their masks and labels, one sample per annotation listed.

    See the module documentation. `params` are those of ``annotation_api.download_crop``
    (``complete``, ``zoom``, ...); `max_size` is the crop's longer side (None: the server's
    choice), `increase_area` the context around the annotation (1.5: half again). `cache` is a
    folder of downloaded crops, shared by every process reading the dataset.

    Attributes:
        records: the annotations listed, in the order of the samples.
        classes: {class value: term name} (0 is "no term").
        term_values: {term id: class value}.
    """

    def __init__(
        self,
        api_client: ApiClient | Configuration,
        project: int,
        *,
        images: Sequence[int] | None = None,
        terms: Sequence[int] | None = None,
        users: Sequence[int] | None = None,
        max_size: int | None = DEFAULT_MAX_SIZE,
        increase_area: float | None = None,
        format: str = "png",
        cache: str | os.PathLike[str] | None = None,
        page_size: int = 1000,
        **params: Any,
    ) -> None:
        if max_size is not None:
            positive_int("max_size", max_size, "a positive number of pixels")
        if increase_area is not None and not increase_area >= 1:
            raise ValueError(f"increase_area: expected a factor >= 1, got {increase_area!r}")
        self._connection = _Connection(api_client)
        client = self._connection.get()
        self.records: list[AnnotationRecord] = list_annotations(
            client, project, images=images, terms=terms, users=users, page_size=page_size
        )
        catalogue = term_classes(client, [project])
        self.term_values: dict[int, int] = {term: value for term, (value, _) in catalogue.items()}
        self.classes: dict[int, str | None] = {0: None, **{value: name for value, name in catalogue.values()}}
        self._terms = list(terms) if terms else None
        self._format = format
        self._max_size = max_size
        self._increase_area = increase_area
        self._params = params
        self._cache = _Cache(cache) if cache is not None else None
        self._host = self._connection.configuration.host

    def __len__(self) -> int:
        return len(self.records)

    @overload
    def __getitem__(self, index: int) -> AnnotationSample: ...

    @overload
    def __getitem__(self, index: slice) -> list[AnnotationSample]: ...

    def __getitem__(self, index: int | slice) -> AnnotationSample | list[AnnotationSample]:
        """The sample of one annotation (its crop downloaded, or read from the cache)."""
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        record = self.records[index]
        pixels = self.crop(index)
        return AnnotationSample(
            pixels, self.mask(index, pixels.shape[1], pixels.shape[0]),
            _label(record.terms, self._terms, self.term_values), record.id, record.image,
        )

    def __iter__(self) -> Iterator[AnnotationSample]:
        return (self[i] for i in range(len(self)))

    @property
    def labels(self) -> list[int]:
        """The label of every sample, without downloading anything (class balance, samplers)."""
        return [_label(r.terms, self._terms, self.term_values) for r in self.records]

    def crop(self, index: int) -> Any:
        """The crop of sample `index` as a numpy array (from the cache when it has it)."""
        record = self.records[index]
        params = dict(self._params)
        if self._max_size is not None:
            params["max_size"] = self._max_size
        if self._increase_area is not None:
            params["increase_area"] = self._increase_area
        key = _Cache.key(
            self._host, "annotation-crop", record.id, record.location, self._format, sorted(params.items())
        )
        return _fetch_decoded(
            self._cache, key, f".{self._format}",
            lambda: self._connection.get().annotation_api.download_crop(record.id, self._format, **params),
        )

    def mask(self, index: int, width: int, height: int) -> Any:
        """The mask of sample `index` for a crop of `width` x `height` pixels (no request)."""
        geometry = wkt_to_geojson(self.records[index].location)
        left, bottom, right, top = _bounds(geometry)
        factor = self._increase_area or 1.0
        # The crop's area: the bounding box, enlarged around its centre; at least a pixel wide.
        span_x, span_y = max(right - left, 1.0) * factor, max(top - bottom, 1.0) * factor
        x0, y1 = (left + right - span_x) / 2, (bottom + top + span_y) / 2
        sx, sy = width / span_x, height / span_y
        return _rasterize(width, height, [(geometry, 1)], lambda x, y: ((x - x0) * sx, (y1 - y) * sy))

    def close(self) -> None:
        """Close the connections this process opened for the dataset (reopened if used again)."""
        self._connection.close()


class TileDataset(Sequence[TileSample]):
    """Tiles of images (a grid of windows at full resolution), with label masks of their annotations.

    `images` are image instance ids; each is cut into `tile_size` windows from its top-left
    corner (`region`, (x, y, width, height), limits them to a part of every image). With
    `keep_partial=False` the cut tiles of the last column and row are left out: every sample then
    has the same size. With `masks=True` (the default) the annotations of the images (filtered by
    `terms` and `users`) are listed when the dataset is built and drawn into each tile's mask with
    their class values (`classes`, from the terms of the images' projects).

    Attributes:
        windows: the tiles, in the order of the samples.
        classes: {class value: term name} (0 is "no term" / background).
        term_values: {term id: class value}.
    """

    def __init__(
        self,
        api_client: ApiClient | Configuration,
        images: Sequence[int],
        *,
        tile_size: int = DEFAULT_TILE_SIZE,
        region: tuple[int, int, int, int] | None = None,
        keep_partial: bool = True,
        masks: bool = True,
        terms: Sequence[int] | None = None,
        users: Sequence[int] | None = None,
        format: str = "png",
        cache: str | os.PathLike[str] | None = None,
        page_size: int = 1000,
    ) -> None:
        ids("images", images, "an image instance id")
        positive_int("tile_size", tile_size, "a positive number of pixels")
        self._connection = _Connection(api_client)
        client = self._connection.get()
        infos = [client.image_instance_api.retrieve(i) for i in images]
        self.windows: list[TileWindow] = []
        self._heights: dict[int, int] = {}
        for image, info in zip(images, infos, strict=True):
            width, height = int(info.width or 0), int(info.height or 0)
            self._heights[image] = height
            x, y, w, h = region or (0, 0, width, height)
            w, h = min(w, width - x), min(h, height - y)
            if w <= 0 or h <= 0:
                continue
            for _, _, tx, ty, tw, th in grid((x, y, w, h), tile_size):
                if keep_partial or (tw == tile_size and th == tile_size):
                    self.windows.append(TileWindow(image, tx, ty, tw, th))
        projects = {int(i.project) for i in infos if i.project is not None}
        catalogue = term_classes(client, projects) if masks else {}
        self.term_values: dict[int, int] = {term: value for term, (value, _) in catalogue.items()}
        self.classes: dict[int, str | None] = {0: None, **{value: name for value, name in catalogue.values()}}
        # Per image: (bounds in rows-down pixels, geometry, class value) of each annotation drawn.
        self._shapes: dict[int, list[tuple[tuple[float, float, float, float], dict[str, Any], int]]] | None = None
        if masks:
            self._shapes = {i: [] for i in images}
            wanted = list(terms) if terms else None
            for record in list_annotations(client, images=list(images), terms=terms, users=users,
                                           page_size=page_size):
                value = _label(record.terms, wanted, self.term_values)
                if value == 0:
                    continue
                geometry = wkt_to_geojson(record.location)
                if not _polygons(geometry):
                    continue
                left, bottom, right, top = _bounds(geometry)
                height = self._heights.get(record.image, 0)
                self._shapes.setdefault(record.image, []).append(
                    ((left, height - top, right, height - bottom), geometry, value))
        self._format = format
        self._cache = _Cache(cache) if cache is not None else None
        self._host = self._connection.configuration.host

    def __len__(self) -> int:
        return len(self.windows)

    @overload
    def __getitem__(self, index: int) -> TileSample: ...

    @overload
    def __getitem__(self, index: slice) -> list[TileSample]: ...

    def __getitem__(self, index: int | slice) -> TileSample | list[TileSample]:
        """The sample of one tile (its window downloaded, or read from the cache)."""
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        window = self.windows[index]
        pixels = self.tile(index)
        return TileSample(pixels, self.mask(index), *window)

    def __iter__(self) -> Iterator[TileSample]:
        return (self[i] for i in range(len(self)))

    def tile(self, index: int) -> Any:
        """The window of tile `index` as a numpy array (from the cache when it has it)."""
        image, x, y, w, h = self.windows[index]
        key = _Cache.key(self._host, "window", image, x, y, w, h, self._format)
        return _fetch_decoded(
            self._cache, key, f".{self._format}",
            lambda: self._connection.get().image_instance_api.download_window(image, x, y, w, h, self._format),
        )

    def mask(self, index: int) -> Any:
        """The label mask of tile `index` (no request); None when built with masks=False."""
        if self._shapes is None:
            return None
        image, x, y, w, h = self.windows[index]
        height = self._heights[image]
        over = [
            (geometry, value)
            for (left, top, right, bottom), geometry, value in self._shapes.get(image, [])
            if left < x + w and right > x and top < y + h and bottom > y
        ]
        # Cytomine's y goes up from the bottom; the tile's rows go down from (x, y).
        return _rasterize(w, h, over, lambda px, py: (px - x, height - py - y))

    def close(self) -> None:
        """Close the connections this process opened for the dataset (reopened if used again)."""
        self._connection.close()
