"""Real image answers of the stub: PNG with the standard library, JPEG when Pillow is installed.

Every image of the stub shows the same synthetic slide: a checkerboard of 256-pixel squares in two
stain-like colours, in the slide's own pixel coordinates. A window, a thumbnail and an annotation
crop of one image therefore agree with each other (tiles assembled from windows give the region
asked for), and their sizes are the ones a real server answers.

JPEG needs Pillow (the ``image`` or ``testing`` extra). Without it a JPEG request is answered with
a PNG of the same size and the header ``X-Cytomine-Stub-Note`` saying so: the SDK reads both the
same way, and the kit keeps the SDK free of runtime dependencies.
"""

from __future__ import annotations

import io
import struct
import zlib

__all__ = ["SQUARE", "encode", "render"]

#: Side of the checkerboard squares, in slide pixels.
SQUARE = 256
_LIGHT = bytes((236, 196, 214))  # eosin pink
_DARK = bytes((122, 84, 160))  # haematoxylin purple
#: An answer never exceeds this many pixels a side (a 40 000-pixel window would take minutes).
MAX_SIDE = 8192

JPEG_NOTE = "JPEG and WebP need Pillow (pip install 'cytomine-sdk[testing]'): this is a PNG of the same size"


def render(x: float, y: float, width: int, height: int, scale: float = 1.0) -> bytes:
    """Raw RGB rows of the slide region whose top-left is (x, y), ``width`` x ``height`` output
    pixels, each output pixel covering ``scale`` slide pixels."""
    width = max(1, min(int(width), MAX_SIDE))
    height = max(1, min(int(height), MAX_SIDE))
    cells = [int((x + i * scale) // SQUARE) % 2 for i in range(width)]
    even = b"".join(_LIGHT if c == 0 else _DARK for c in cells)
    odd = b"".join(_DARK if c == 0 else _LIGHT for c in cells)
    return b"".join(even if int((y + j * scale) // SQUARE) % 2 == 0 else odd for j in range(height))


def _png(raw: bytes, width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    stride = width * 3
    rows = b"".join(b"\x00" + raw[row * stride : (row + 1) * stride] for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")


def encode(raw: bytes, width: int, height: int, fmt: str) -> tuple[bytes, str, str | None]:
    """(body, content type, note) of an RGB image in ``fmt`` (``png``, ``jpg``/``jpeg``, ``webp``).

    Other formats are answered as JPEG, as the servers replace unsupported ones (docs/server-facts.md
    section 5). The note is set when JPEG or WebP was asked and Pillow is missing (a PNG is sent)."""
    width = max(1, min(int(width), MAX_SIDE))
    height = max(1, min(int(height), MAX_SIDE))
    if fmt.lower() == "png":
        return _png(raw, width, height), "image/png", None
    try:
        from PIL import Image
    except ImportError:
        return _png(raw, width, height), "image/png", JPEG_NOTE
    kind = "WEBP" if fmt.lower() == "webp" else "JPEG"
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), raw).save(out, format=kind, quality=85)
    return out.getvalue(), f"image/{kind.lower()}", None
