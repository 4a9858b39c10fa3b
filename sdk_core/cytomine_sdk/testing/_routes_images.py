"""Handlers of images and their binaries: image JSON, original files (``Range``), thumbnails,
windows and crops of images and annotations."""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING

from . import _images
from ._envelopes import apply_field_filters, list_response
from ._errors import bad_request, not_found
from ._geometry import _RING, _points
from ._http import HttpError, Request, Response, error_message_response, json_response
from ._params import parse_int
from ._routes_annotations import _get_annotation
from ._routes_projects import _get_project
from ._shapes import image_json
from ._state import BASE_TIME_MS, StubImage, StubUser

if TYPE_CHECKING:
    from ._cytomine_stub import CytomineStub

# -- images --


def h_image_get(stub: CytomineStub, req: Request) -> Response:
    ident = req.path_int("id")
    image = stub.state.images.get(ident)
    if image is None:
        raise not_found(stub, "ImageInstance", ident)
    return json_response(image_json(stub, image))


def h_project_images(stub: CytomineStub, req: Request) -> Response:
    project = _get_project(stub, req.path_int("id"))
    rows = [image_json(stub, image) for image in stub.state.images_of_project(project.id)]
    return list_response(stub, req, apply_field_filters(req.args, rows))


# -- original files and thumbnails: the user from a bearer token in the query --


def _query_token_user(stub: CytomineStub, req: Request, *, thumb: bool = False) -> StubUser:
    """The servers' rule (docs/server-facts.md sections 1.1 and 5): 2026 reads `authorization`, 2025
    `Authorization`, a bearer JWT whose `preferred_username` names the user, decoded without
    checking its signature; missing, 2025 answers 400 and 2026 thumbnails fail with a 500."""
    name = "authorization" if stub.generation == "2026" else "Authorization"
    value = req.arg(name)
    if not value:
        if thumb and stub.generation == "2026":
            raise HttpError(error_message_response(500, "java.lang.NullPointerException"))
        raise HttpError(error_message_response(
            400, f"Required request parameter '{name}' for method parameter type String is not present"))
    token = value[7:] if value.lower().startswith("bearer ") else value
    username = stub.state.current_user.username if token == stub.token else _jwt_username(token)
    user = stub.state.user_by_username(username) if username else None
    if user is None:
        raise HttpError(error_message_response(500, "Cannot read the user from the token"))
    return user


def _jwt_username(token: str) -> str | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    name = claims.get("preferred_username") if isinstance(claims, dict) else None
    return name if isinstance(name, str) else None


def original_content(image: StubImage) -> bytes:
    """The bytes of an image's original file: ``image.content``, or 16 KiB made up from its id."""
    if image.content is not None:
        return image.content
    return bytes(range(256)) * 64 + image.id.to_bytes(4, "big")


def _image_by_id(stub: CytomineStub, ident: int, *, abstract: bool = False) -> StubImage:
    for image in stub.state.images.values():
        if (image.base_image if abstract else image.id) == ident:
            return image
    if stub.synthetic_images:  # any id: a made-up 10000 x 8000 slide (see CytomineStub)
        return StubImage(ident, 0, stub.state.current_user_id, f"slide-{ident}.svs", 10000, 8000, BASE_TIME_MS)
    raise not_found(stub, "AbstractImage" if abstract else "ImageInstance", ident)


_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


def _image_file(stub: CytomineStub, req: Request, *, abstract: bool = False) -> Response:
    """The original file, with ``Range`` (``bytes=a-`` and ``bytes=a-b``) and ``If-Range`` like the servers."""
    if stub.generation != "legacy":
        _query_token_user(stub, req)
    image = _image_by_id(stub, req.path_int("id"), abstract=abstract)
    content = original_content(image)
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="{image.filename}"',
        "Accept-Ranges": "bytes",
        "ETag": f'"slide-{image.id}"',
    }
    asked = _RANGE.fullmatch(req.headers.get("range", "").strip())
    if asked and req.headers.get("if-range") in (None, headers["ETag"]):
        start = int(asked.group(1))
        end = min(int(asked.group(2)), len(content) - 1) if asked.group(2) else len(content) - 1
        if start >= len(content) or end < start:
            return Response(416, b"", {"Content-Range": f"bytes */{len(content)}"})
        headers["Content-Range"] = f"bytes {start}-{end}/{len(content)}"
        return Response(206, content[start : end + 1], headers)
    return Response(200, content, headers)


def picture(x: float, y: float, width: float, height: float, fmt: str, max_size: int | None = None) -> Response:
    """An image answer of the slide region (x, y, width, height), scaled down to ``max_size``."""
    width, height = max(1.0, width), max(1.0, height)
    scale = max(width, height) / max_size if max_size and max(width, height) > max_size else 1.0
    out_w, out_h = max(1, round(width / scale)), max(1, round(height / scale))
    raw = _images.render(x, y, out_w, out_h, scale)
    body, content_type, note = _images.encode(raw, out_w, out_h, fmt)
    headers = {"Content-Type": content_type}
    if note:
        headers["X-Cytomine-Stub-Note"] = note
    return Response(200, body, headers)


def _max_size(req: Request, default: int | None) -> int | None:
    value = req.arg("maxSize")
    if value is None or not value.strip():
        return default
    size = parse_int(value, "maxSize")
    return size if size > 0 else default


def _bbox(stub: CytomineStub, wkt: str, image: StubImage) -> tuple[float, float, float, float]:
    """(left, top, width, height) in image pixels (top-left origin) of a WKT in Cytomine's
    bottom-left-origin coordinates."""
    points = [p for ring in _RING.findall(wkt) for p in _points(ring)]
    if not points:
        raise bad_request(f"Invalid geometry: {wkt!r}")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), image.height - max(ys), max(xs) - min(xs), max(ys) - min(ys)


def h_image_download(stub: CytomineStub, req: Request) -> Response:
    return _image_file(stub, req)


def h_abstract_image_download(stub: CytomineStub, req: Request) -> Response:
    return _image_file(stub, req, abstract=True)


def h_image_thumb(stub: CytomineStub, req: Request) -> Response:
    """Thumb (``maxSize`` 512 by default) or preview (1024): the whole slide, scaled down."""
    if stub.generation != "legacy":
        _query_token_user(stub, req, thumb=True)
    image = _image_by_id(stub, req.path_int("id"))
    default = 1024 if req.path.rsplit("/", 1)[-1].startswith("preview") else 512
    size = _max_size(req, default) or default
    return picture(0, 0, image.width, image.height, req.params["format"], size)


def h_image_window(stub: CytomineStub, req: Request) -> Response:
    """``window-{x}-{y}-{w}-{h}.{format}``: the region at full resolution, clipped to the slide."""
    image = _image_by_id(stub, req.path_int("id"))
    x, y, w, h = (req.path_int(name) for name in ("x", "y", "w", "h"))
    if x >= image.width or y >= image.height or w <= 0 or h <= 0:
        raise bad_request(f"Region {x},{y},{w},{h} is outside image {image.id} ({image.width}x{image.height})")
    return picture(x, y, min(w, image.width - x), min(h, image.height - y), req.params["format"])


def h_image_crop(stub: CytomineStub, req: Request) -> Response:
    """``crop.{format}`` of an image: the bounding box of ``geometry`` (or ``location``), ``maxSize`` 256."""
    image = _image_by_id(stub, req.path_int("id"))
    wkt = req.arg("geometry") or req.arg("location")
    if not wkt:
        raise bad_request("Parameter geometry or location is required")
    left, top, width, height = _bbox(stub, wkt, image)
    return picture(left, top, width, height, req.params["format"], _max_size(req, 256))


def _annotation_picture(stub: CytomineStub, req: Request) -> Response:
    if stub.synthetic_images and req.path_int("id") not in stub.state.annotations:
        return picture(0, 0, 256, 256, req.params["format"], _max_size(req, None))
    annotation = _get_annotation(stub, req.path_int("id"))
    image = _image_by_id(stub, annotation.image)
    left, top, width, height = _bbox(stub, annotation.location, image)
    return picture(left, top, width, height, req.params["format"], _max_size(req, None))


def h_annotation_crop(stub: CytomineStub, req: Request) -> Response:
    """``userannotation/{id}/crop.{format}``: the annotation's bounding box (``maxSize`` to scale it down)."""
    if stub.generation == "2025":  # 2025 reads the crop's user from `Authorization` (docs/server-facts.md 5)
        _query_token_user(stub, req)
    return _annotation_picture(stub, req)


def h_any_annotation_crop(stub: CytomineStub, req: Request) -> Response:
    return _annotation_picture(stub, req)
