"""Geometries as Cytomine takes them: WKT, checked before anything is sent.

`to_wkt` accepts a WKT string, a shapely geometry (the `geo` extra) or a GeoJSON-like mapping
(a geometry, or a Feature holding one) and returns WKT, raising ValueError with the reason when
the geometry is malformed (bad syntax, too few points, an unclosed ring, a non-finite number).

`validate_wkts` checks many WKT geometries at once (bulk creation): with shapely installed it
reads them all in one vectorised call and also tells the invalid ones (a self-intersecting
polygon, ...), which a server would refuse or store broken.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import import_module
from typing import Any

# NaN and infinities are tokens of their own (not words), so they are reported as such.
_TOKEN = re.compile(
    r"\s*(?:(?P<nonfinite>[-+]?(?i:nan|inf(?:inity)?)(?![A-Za-z]))|(?P<word>[A-Za-z]+)|"
    r"(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<sym>[(),]))"
)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        self.positions: list[int] = []  # where each token starts, for messages
        self.points_read = 0
        position = 0
        text = text.strip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise ValueError(f"unexpected character {text[position]!r} at position {position}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            self.positions.append(match.start(kind))
            position = match.end()
        self.index = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.index] if self.index < len(self.tokens) else ("end", "")

    def take(self, kind: str, value: str | None = None) -> str:
        token = self.peek()
        if token[0] != kind or (value is not None and token[1].upper() != value):
            wanted = value or kind
            raise ValueError(f"expected {wanted!r} but found {token[1] or 'the end'!r}")
        self.index += 1
        return token[1]

    def point(self) -> list[float]:
        values: list[float] = []
        self.points_read += 1
        while self.peek()[0] in ("number", "nonfinite"):
            position = self.positions[self.index]
            kind, text = self.peek()
            self.index += 1
            value = float(text)  # an overflowing literal (1e999) is infinite too
            if kind == "nonfinite" or not math.isfinite(value):
                raise ValueError(
                    f"point {self.points_read} (position {position}): coordinate {text!r} is not finite; "
                    "coordinates must be finite numbers"
                )
            values.append(int(text) if text.lstrip("+-").isdigit() else value)
        if not 2 <= len(values) <= 4:
            raise ValueError(f"a point has 2 to 4 coordinates, got {len(values)}")
        return values

    def points(self) -> list[list[float]]:
        self.take("sym", "(")
        out = [self.point()]
        while self.peek() == ("sym", ","):
            self.take("sym")
            out.append(self.point())
        self.take("sym", ")")
        return out

    def many(self, item: Any) -> list[Any]:
        self.take("sym", "(")
        out = [item()]
        while self.peek() == ("sym", ","):
            self.take("sym")
            out.append(item())
        self.take("sym", ")")
        return out

    def ring_list(self) -> list[list[list[float]]]:
        rings = self.many(self.points)
        for ring in rings:
            if len(ring) < 4:
                raise ValueError(f"a polygon ring needs at least 4 points, got {len(ring)}")
            if ring[0] != ring[-1]:
                raise ValueError("a polygon ring must end where it starts (closed)")
        return rings

    def geometry(self) -> dict[str, Any]:
        """The next geometry, as a GeoJSON geometry object."""
        kind = self.take("word").upper()
        if self.peek()[0] == "word" and self.peek()[1].upper() in ("Z", "M", "ZM"):
            self.take("word")
        empty = self.peek()[0] == "word" and self.peek()[1].upper() == "EMPTY"
        if empty:
            self.take("word")
        if kind == "GEOMETRYCOLLECTION":
            return {"type": "GeometryCollection", "geometries": [] if empty else self.many(self.geometry)}
        if kind not in _GEOJSON_TYPES:
            raise ValueError(f"unknown geometry type {kind!r}")
        if empty:
            return {"type": _GEOJSON_TYPES[kind], "coordinates": []}
        coordinates: Any
        if kind == "POINT":
            self.take("sym", "(")
            coordinates = self.point()
            self.take("sym", ")")
        elif kind == "LINESTRING":
            coordinates = self.points()
            if len(coordinates) < 2:
                raise ValueError("a linestring needs at least 2 points")
        elif kind == "POLYGON":
            coordinates = self.ring_list()
        elif kind == "MULTIPOINT":
            # both MULTIPOINT (1 2, 3 4) and MULTIPOINT ((1 2), (3 4))
            if self.tokens[self.index + 1 : self.index + 2] == [("sym", "(")]:
                coordinates = [p[0] for p in self.many(self.points)]
            else:
                coordinates = self.points()
        elif kind == "MULTILINESTRING":
            coordinates = self.many(self.points)
        else:  # MULTIPOLYGON
            coordinates = self.many(self.ring_list)
        return {"type": _GEOJSON_TYPES[kind], "coordinates": coordinates}


_GEOJSON_TYPES = {
    "POINT": "Point",
    "LINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTIPOINT": "MultiPoint",
    "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon",
}


def wkt_to_geojson(wkt: str) -> dict[str, Any]:
    """The GeoJSON geometry of a WKT geometry (ValueError when it is malformed)."""
    if not isinstance(wkt, str) or not wkt.strip():
        raise ValueError("empty geometry")
    parser = _Parser(wkt)
    geometry = parser.geometry()
    if parser.peek()[0] != "end":
        raise ValueError(f"unexpected {parser.peek()[1]!r} after the geometry")
    return geometry


def check_wkt(wkt: str) -> str:
    """`wkt` if it is a well-formed WKT geometry; else ValueError saying what is wrong."""
    wkt_to_geojson(wkt)
    return wkt.strip()


# shapely's verdict on a geometry without fault.
_VALID = "Valid Geometry"


@cache
def _shapely() -> Any:
    """The shapely module (the `geo` extra), or None when it is not installed. Imported on first
    use, not with this module: it imports numpy (0.05-0.2 s)."""
    try:
        return import_module("shapely")
    except ImportError:
        return None


def validate_wkts(wkts: Sequence[str], name: str = "geometries") -> list[str | None]:
    """Check many WKT geometries at once: for each, None when it is valid, else why it is not
    (shapely's reason, e.g. ``Self-intersection[5 5]``).

    A malformed one (unreadable, an unclosed ring, too few points, a non-finite coordinate)
    raises ValueError naming it: ``name[i]: reason``, whether shapely is installed or not.
    Validity (self-intersections, rings crossing, ...) is only known with shapely; without it
    every well-formed geometry is reported valid.
    """
    shapely = _shapely()
    if shapely is None:
        return _validate_by_parser(wkts, name)
    if not all(isinstance(wkt, str) for wkt in wkts):
        # shapely would raise one TypeError for the whole call; the parser names the item
        return _validate_by_parser(wkts, name)
    # A literal like 1e999 overflows while read; it is refused below, so numpy's warning is noise.
    with import_module("numpy").errstate(all="ignore"):
        geometries = shapely.from_wkt(list(wkts), on_invalid="ignore")
        reasons: list[str | None] = shapely.is_valid_reason(geometries).tolist()
    for position, reason in enumerate(reasons):
        if reason == _VALID:
            reasons[position] = None
            continue
        # Unreadable (None), or invalid: what the parser refuses is malformed, with the parser's
        # message (the same as without shapely); the rest is well-formed but invalid.
        try:
            check_wkt(wkts[position])
        except ValueError as exc:
            raise ValueError(f"{name}[{position}]: {exc}") from None
        if reason is None:  # GEOS cannot read what the parser accepts, e.g. POINT Z (1 2)
            try:
                shapely.from_wkt(wkts[position])
            except shapely.errors.GEOSException as exc:
                raise ValueError(f"{name}[{position}]: {exc}") from None
    return reasons


def _validate_by_parser(wkts: Sequence[str], name: str) -> list[str | None]:
    """`validate_wkts` without shapely: malformed geometries are refused, all others valid."""
    # Kept for installs without the `geo` extra: malformed WKT is still refused before sending.
    for position, wkt in enumerate(wkts):
        try:
            check_wkt(wkt)
        except ValueError as exc:
            raise ValueError(f"{name}[{position}]: {exc}") from None
    return [None] * len(wkts)


def _coords(values: Sequence[Any]) -> str:
    if not 2 <= len(values) <= 4 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ValueError(f"a GeoJSON position is 2 to 4 numbers, got {values!r}")
    return " ".join(repr(float(v)) if isinstance(v, float) else str(v) for v in values)


def _check_finite(geometry: Mapping[str, Any], where: str = "") -> None:
    """ValueError naming the first NaN or infinite coordinate of a GeoJSON-like geometry, e.g.
    ``coordinates[0][2][1]`` (ring 0, point 2, y). Malformed structures are left to the caller."""
    kind = geometry.get("type")
    if kind == "Feature":
        inner = geometry.get("geometry")
        if isinstance(inner, Mapping):
            _check_finite(inner, f"{where}geometry.")
        return
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        if isinstance(members, Sequence):
            for i, member in enumerate(members):
                if isinstance(member, Mapping):
                    _check_finite(member, f"{where}geometries[{i}].")
        return
    # Positions nest at most 4 deep (MultiPolygon): deeper is malformed, reported by the caller.
    pending: list[tuple[Any, str, int]] = [(geometry.get("coordinates"), f"{where}coordinates", 0)]
    while pending:
        value, path, depth = pending.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{path}: coordinate {value!r} is not finite; coordinates must be finite numbers")
        if isinstance(value, (list, tuple)) and depth < 5:
            # reversed: the stack then yields the first offending coordinate first
            pending.extend((item, f"{path}[{i}]", depth + 1) for i, item in reversed(list(enumerate(value))))


def _geojson_to_wkt(geometry: Mapping[str, Any]) -> str:
    if geometry.get("type") == "Feature":
        inner = geometry.get("geometry")
        if not isinstance(inner, Mapping):
            raise ValueError("a GeoJSON Feature without a geometry")
        return _geojson_to_wkt(inner)
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        parts = [_geojson_to_wkt(g) for g in geometry.get("geometries") or []]
        return f"GEOMETRYCOLLECTION ({', '.join(parts)})"
    c = geometry.get("coordinates")
    if not isinstance(kind, str) or c is None:
        raise ValueError("a GeoJSON geometry needs `type` and `coordinates`")

    def line(points: Sequence[Any]) -> str:
        return "(" + ", ".join(_coords(p) for p in points) + ")"

    def rings(polygon: Sequence[Any]) -> str:
        return "(" + ", ".join(line(r) for r in polygon) + ")"

    forms = {
        "Point": lambda: f"POINT ({_coords(c)})",
        "LineString": lambda: f"LINESTRING {line(c)}",
        "Polygon": lambda: f"POLYGON {rings(c)}",
        "MultiPoint": lambda: "MULTIPOINT (" + ", ".join(f"({_coords(p)})" for p in c) + ")",
        "MultiLineString": lambda: "MULTILINESTRING (" + ", ".join(line(p) for p in c) + ")",
        "MultiPolygon": lambda: "MULTIPOLYGON (" + ", ".join(rings(p) for p in c) + ")",
    }
    if kind not in forms:
        raise ValueError(f"unknown GeoJSON geometry type {kind!r}")
    try:
        return forms[kind]()
    except TypeError as exc:
        raise ValueError(f"malformed GeoJSON {kind} coordinates") from exc


def to_wkt(geometry: Any, *, check: bool = True) -> str:
    """WKT for a WKT string, a shapely geometry or a GeoJSON-like mapping, checked.

    With ``check=False`` the WKT is not parsed again (it is left to `validate_wkts`, for many
    geometries at once); non-finite coordinates of a mapping or a shapely geometry are still
    refused, naming their place, and anything else than a geometry is still a ValueError.
    """
    if isinstance(geometry, str):
        return check_wkt(geometry) if check else geometry.strip()
    if isinstance(geometry, Mapping):
        _check_finite(geometry)
        converted = _geojson_to_wkt(geometry)
        return check_wkt(converted) if check else converted
    wkt = getattr(geometry, "wkt", None)  # shapely geometries
    if isinstance(wkt, str):
        # Its GeoJSON form names a bad coordinate by its place rather than by a WKT position.
        interface = getattr(geometry, "__geo_interface__", None)
        if isinstance(interface, Mapping):
            _check_finite(interface)
        return check_wkt(wkt) if check else wkt
    raise ValueError(f"expected WKT, a shapely geometry or a GeoJSON mapping, got {type(geometry).__name__}")
