"""Export a project's annotations: one GeoJSON FeatureCollection per image, optional label masks.

    from cytomine_sdk.export import export_annotations

    report = export_annotations(api_client, project=42, out="export/", masks=True)

For each image, `image-<id>.geojson` holds one Feature per annotation (properties: annotation id,
image id, user id, term ids and names), written as the annotations arrive page by page, so memory
stays flat whatever their number. Coordinates are Cytomine's: pixels of the full-resolution
image, origin at the bottom-left corner, y upwards. `terms.json` lists the project's terms with
the class value each has in the masks.

With `masks=True` (needs the `image` extra: Pillow and numpy), `image-<id>-mask.png` is a label
mask of the image, downscaled so its longer side is at most `mask_max_size` pixels, row 0 at the
top: 0 is background, each term has its class value (1, 2, ... by term id), holes are cut out,
an annotation with several terms takes its first, annotations without a term or without area
(points, lines) are not drawn, and where annotations overlap the one listed last wins.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cytomine_sdk.geometry import wkt_to_geojson
from cytomine_sdk.pagination import paginate
from cytomine_sdk.progress import Progress, ProgressCallback
from cytomine_sdk.validation import ids, positive_int

if TYPE_CHECKING:
    from cytomine_sdk.client import ApiClient

DEFAULT_MASK_MAX_SIZE = 4096


@dataclass
class ImageExport:
    """What was written for one image."""

    image: int
    geojson: Path
    annotations: int
    mask: Path | None = None
    skipped: list[tuple[int | None, str]] = field(default_factory=list)
    """Annotations left out, with the reason (e.g. a geometry the server sent malformed)."""


@dataclass
class ExportReport:
    """Everything an export wrote."""

    terms: Path
    images: list[ImageExport]

    @property
    def annotations(self) -> int:
        """Number of annotations written."""
        return sum(i.annotations for i in self.images)


class _Mask:
    """A downscaled label mask being drawn (Pillow), polygon by polygon."""

    def __init__(self, width: int, height: int, max_size: int, classes: int) -> None:
        try:
            from PIL import Image
        except ImportError as exc:
            raise ImportError("masks=True needs Pillow: pip install 'cytomine-sdk[image]'") from exc
        self.height = height
        self.scale = min(1.0, max_size / max(width, height, 1))
        self.size = (max(1, round(width * self.scale)), max(1, round(height * self.scale)))
        self.image = Image.new("I;16" if classes > 255 else "L", self.size, 0)

    def _pixels(self, ring: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
        # Cytomine's y axis points up from the bottom-left corner; images' rows go down.
        return [(x * self.scale, (self.height - y) * self.scale) for x, y, *_ in ring]

    def draw(self, geometry: dict[str, Any], value: int) -> None:
        from PIL import Image, ImageDraw

        polygons = {"Polygon": [geometry.get("coordinates")], "MultiPolygon": geometry.get("coordinates")}.get(
            str(geometry.get("type")), []
        )
        for rings in polygons or []:
            if not rings:
                continue
            exterior = self._pixels(rings[0])
            left = max(int(min(x for x, _ in exterior)), 0)
            top = max(int(min(y for _, y in exterior)), 0)
            right = min(int(max(x for x, _ in exterior)) + 2, self.size[0])
            bottom = min(int(max(y for _, y in exterior)) + 2, self.size[1])
            if right <= left or bottom <= top:
                continue
            # Rasterise polygon minus holes in its own box, then paint it: holes show what is below.
            shape = Image.new("1", (right - left, bottom - top), 0)
            pen = ImageDraw.Draw(shape)
            pen.polygon([(x - left, y - top) for x, y in exterior], fill=1)
            for hole in rings[1:]:
                pen.polygon([(x - left, y - top) for x, y in self._pixels(hole)], fill=0)
            self.image.paste(value, (left, top, right, bottom), shape)

    def save(self, path: Path) -> None:
        self.image.save(path, format="PNG")


def _write_atomically(path: Path, writer: Any) -> None:
    # A temporary name of this writer's own: exports of several images into one folder (processes,
    # threads, a Dask cluster) each write the shared terms.json, and a shared name would let one
    # writer rename away the file another is about to rename.
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.part")
    try:
        writer(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def export_annotations(
    api_client: ApiClient,
    project: int,
    out: str | os.PathLike[str],
    *,
    images: Sequence[int] | None = None,
    terms: Sequence[int] | None = None,
    users: Sequence[int] | None = None,
    masks: bool = False,
    mask_max_size: int = DEFAULT_MASK_MAX_SIZE,
    page_size: int = 1000,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
) -> ExportReport:
    """Write the annotations of `project` (optionally only some images, terms or users) to `out`.

    See the module documentation for the files written. Progress counts images.
    """
    positive_int("project", project, "a project id")
    for name, selection in (("images", images), ("terms", terms), ("users", users)):
        if selection is not None:
            ids(name, selection)
    positive_int("mask_max_size", mask_max_size, "a positive number of pixels")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)

    project_terms = sorted(paginate(api_client.term_api.list_by_project, project), key=lambda t: t.id or 0)
    names = {t.id: t.name for t in project_terms}
    values = {t.id: value for value, t in enumerate(project_terms, start=1)}
    terms_path = folder / "terms.json"
    catalogue = [{"id": t.id, "name": t.name, "color": t.color, "mask_value": values[t.id]} for t in project_terms]
    _write_atomically(terms_path, lambda p: p.write_text(json.dumps(catalogue, indent=2), encoding="utf-8"))

    if images is None:
        image_list = list(paginate(api_client.image_instance_api.list_by_project, project))
    else:
        image_list = [api_client.image_instance_api.retrieve(i) for i in images]
    written: list[ImageExport] = []
    with Progress(len(image_list), bar=progress, callback=on_progress, unit="image", description="images") as bar:
        for image in image_list:
            written.append(
                _export_image(
                    api_client, project, image, folder, terms, users, names, values, masks, mask_max_size, page_size
                )
            )
            bar.advance(1)
    return ExportReport(terms_path, written)


def _export_image(
    api_client: ApiClient,
    project: int,
    image: Any,
    folder: Path,
    terms: Sequence[int] | None,
    users: Sequence[int] | None,
    names: dict[Any, Any],
    values: dict[Any, int],
    masks: bool,
    mask_max_size: int,
    page_size: int,
) -> ImageExport:
    mask = _Mask(image.width or 1, image.height or 1, mask_max_size, len(values)) if masks else None
    result = ImageExport(image.id, folder / f"image-{image.id}.geojson", 0)
    listing = paginate(
        api_client.annotation_api.list,
        project=project,
        image=image.id,
        terms=list(terms) if terms else None,
        users=list(users) if users else None,
        show_wkt=True,
        show_term=True,
        show_meta=True,
        page_size=page_size,
    )

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write('{"type": "FeatureCollection", "features": [\n')
            first = True
            for annotation in listing:
                try:
                    geometry = wkt_to_geojson(annotation.location or "")
                except ValueError as exc:
                    result.skipped.append((annotation.id, f"geometry: {exc}"))
                    continue
                term_ids = list(annotation.term or [])
                feature = {
                    "type": "Feature",
                    "id": annotation.id,
                    "geometry": geometry,
                    "properties": {
                        "annotation": annotation.id,
                        "image": image.id,
                        "user": annotation.user,
                        "terms": term_ids,
                        "term_names": [names.get(t) for t in term_ids],
                    },
                }
                fh.write(("" if first else ",\n") + json.dumps(feature, separators=(",", ":")))
                first = False
                result.annotations += 1
                if mask is not None and term_ids and term_ids[0] in values:
                    mask.draw(geometry, values[term_ids[0]])
            fh.write("\n]}\n")

    _write_atomically(result.geojson, write)
    if mask is not None:
        result.mask = folder / f"image-{image.id}-mask.png"
        _write_atomically(result.mask, mask.save)
    return result
