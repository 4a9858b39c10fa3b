"""Image regions as bytes, PIL images or numpy arrays, fetched one by one or many at once.

    from cytomine_sdk.images import annotation_crops, as_array, fetch_windows, assemble

    png = api_client.image_instance_api.download_window(7, 0, 0, 512, 512, "png")
    pixels = as_array(png)                                        # the `image` extra

    crops = annotation_crops(api_client, [101, 102, 103], format="png", max_size=256, progress=True)
    tiles = fetch_windows(api_client, 7, region=(0, 0, 4096, 4096), tile_size=1024)
    mosaic = assemble(tiles)                                      # one (4096, 4096, channels) array

Batches run a bounded number of requests at once over the client's connection pool (each retried
per the client's configuration) and return a BatchReport: what succeeded, and every item that
failed with its reason; nothing is dropped silently. With `dest`, each result is written to a
file instead of being kept in memory.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cytomine_sdk.exceptions import CytomineError
from cytomine_sdk.progress import Progress, ProgressCallback
from cytomine_sdk.validation import ids, positive_int

if TYPE_CHECKING:
    from cytomine_sdk.client import ApiClient

DEFAULT_WORKERS = 8


def as_image(data: bytes) -> Any:
    """A PIL image of an image answer (the `image` extra)."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("as_image needs Pillow: pip install 'cytomine-sdk[image]'") from exc
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def as_array(data: bytes) -> Any:
    """A numpy array (rows, columns[, channels]) of an image answer (the `image` extra)."""
    try:
        import numpy
    except ImportError as exc:
        raise ImportError("as_array needs numpy: pip install 'cytomine-sdk[image]'") from exc
    return numpy.asarray(as_image(data))


@dataclass
class BatchReport:
    """Results of a batch by key (bytes, or the Path written with `dest`) and the failures."""

    results: dict[Hashable, Any] = field(default_factory=dict)
    failed: dict[Hashable, str] = field(default_factory=dict)
    tile_size: int | None = None
    region: tuple[int, int, int, int] | None = None

    @property
    def ok(self) -> bool:
        """True when every item succeeded."""
        return not self.failed

    def raise_for_failures(self) -> None:
        """Raise BatchError if any item failed."""
        if self.failed:
            raise BatchError(self)


class BatchError(CytomineError):
    """Some items of a batch failed; `report.failed` says which and why."""

    def __init__(self, report: BatchReport) -> None:
        self.report = report
        key, reason = next(iter(report.failed.items()))
        super().__init__(f"{len(report.failed)} of {len(report.failed) + len(report.results)} failed; {key}: {reason}")


def fetch_many(
    calls: Iterable[tuple[Hashable, Callable[[], bytes]]],
    *,
    workers: int = DEFAULT_WORKERS,
    dest: str | os.PathLike[str] | None = None,
    suffix: str = "",
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
) -> BatchReport:
    """Run `(key, call)` pairs, `workers` at a time; each call returns bytes.

    With `dest` (a folder), each result is written to `<dest>/<key><suffix>` and the report holds
    the paths.
    """
    positive_int("workers", workers)
    pairs = list(calls)
    folder = Path(dest) if dest is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    report = BatchReport()

    def run(pair: tuple[Hashable, Callable[[], bytes]]) -> tuple[Hashable, Any, str | None]:
        key, call = pair
        try:
            data = call()
        except (CytomineError, ValueError) as exc:
            return key, None, f"{type(exc).__name__}: {exc}"
        if folder is None:
            return key, data, None
        name = "-".join(str(k) for k in key) if isinstance(key, tuple) else str(key)
        path = folder / f"{name}{suffix}"
        path.write_bytes(data)
        return key, path, None

    with (
        Progress(len(pairs), bar=progress, callback=on_progress, unit="item") as counter,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        for key, value, error in pool.map(run, pairs):
            if error is None:
                report.results[key] = value
            else:
                report.failed[key] = error
            counter.advance(1)
    return report


def _bounded_workers(api_client: ApiClient, workers: int) -> int:
    # More threads than pooled connections would open and drop connections on every request.
    return min(workers, int(api_client.configuration.pool_maxsize))


def annotation_crops(
    api_client: ApiClient,
    annotation_ids: Sequence[int],
    *,
    format: str = "png",
    workers: int = DEFAULT_WORKERS,
    dest: str | os.PathLike[str] | None = None,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
    **params: Any,
) -> BatchReport:
    """Crops of many annotations (user or reviewed), keyed by annotation id.

    `params` are those of ``annotation_api.download_crop`` (max_size, increase_area, draw, mask,
    alpha_mask, ...). With `dest`, crops are written to `<dest>/<id>.<format>`. For masks whatever
    the server, pass ``mask=True, type="mask"``: Spring cores read `mask`, legacy servers `type`,
    and each ignores the other.
    """
    ids("annotation_ids", annotation_ids, "an annotation id")
    crop = api_client.annotation_api.download_crop
    calls = [(i, (lambda i=i: crop(i, format, **params))) for i in annotation_ids]
    return fetch_many(
        calls,
        workers=_bounded_workers(api_client, workers),
        dest=dest,
        suffix=f".{format}",
        progress=progress,
        on_progress=on_progress,
    )


def grid(region: tuple[int, int, int, int], tile_size: int) -> list[tuple[int, int, int, int, int, int]]:
    """Tiles covering `region` (x, y, width, height): (column, row, x, y, width, height) each,
    the last column and row cut to the region."""
    x0, y0, width, height = region
    if min(width, height) <= 0 or min(x0, y0) < 0:
        raise ValueError(f"region: expected (x >= 0, y >= 0, width > 0, height > 0), got {region!r}")
    positive_int("tile_size", tile_size, "a positive number of pixels")
    return [
        (
            col,
            row,
            x0 + col * tile_size,
            y0 + row * tile_size,
            min(tile_size, width - col * tile_size),
            min(tile_size, height - row * tile_size),
        )
        for row in range(-(-height // tile_size))
        for col in range(-(-width // tile_size))
    ]


def fetch_windows(
    api_client: ApiClient,
    image: int,
    *,
    region: tuple[int, int, int, int],
    tile_size: int = 1024,
    format: str = "png",
    workers: int = DEFAULT_WORKERS,
    dest: str | os.PathLike[str] | None = None,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
) -> BatchReport:
    """Windows of an image instance covering `region` at full resolution, keyed by (column, row).

    `region` is (x, y, width, height) in image pixels, as the window endpoint takes them. The
    report can be `assemble`d into one array.
    """
    window = api_client.image_instance_api.download_window
    calls = [
        ((c, r), (lambda x=x, y=y, w=w, h=h: window(image, x, y, w, h, format)))
        for c, r, x, y, w, h in grid(region, tile_size)
    ]
    report = fetch_many(
        calls,
        workers=_bounded_workers(api_client, workers),
        dest=dest,
        suffix=f".{format}",
        progress=progress,
        on_progress=on_progress,
    )
    report.tile_size, report.region = tile_size, region
    return report


def assemble(report: BatchReport) -> Any:
    """One numpy array of the tiles of `fetch_windows` (raises BatchError if any tile failed)."""
    import numpy

    report.raise_for_failures()
    if report.tile_size is None or report.region is None:
        raise ValueError("report: not a fetch_windows report (no tile size and region)")
    tiles = grid(report.region, report.tile_size)
    out: Any = None
    for col, row, _, _, w, h in tiles:
        value = report.results[(col, row)]
        pixels = as_array(Path(value).read_bytes() if isinstance(value, Path) else value)
        if out is None:
            out = numpy.zeros((report.region[3], report.region[2], *pixels.shape[2:]), dtype=pixels.dtype)
        top, left = row * report.tile_size, col * report.tile_size
        out[top : top + h, left : left + w] = pixels[:h, :w]
    return out
