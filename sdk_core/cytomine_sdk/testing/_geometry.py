"""Geometry: just enough WKT for validity, area, perimeter and centroid (in image pixels)."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import Any

WKT_KINDS = ("POLYGON", "POINT", "LINESTRING", "MULTIPOLYGON")


def wkt_is_valid(value: Any) -> bool:
    return isinstance(value, str) and value.strip().upper().startswith(WKT_KINDS)


_RING = re.compile(r"\(([^()]+)\)")


def _points(text: str) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for pair in text.split(","):
        numbers = pair.split()
        if len(numbers) >= 2:
            points.append((float(numbers[0]), float(numbers[1])))
    return points


@dataclass(frozen=True)
class GeometryMetrics:
    area: float
    perimeter: float
    centroid: tuple[float, float]


def geometry_metrics(wkt: str) -> GeometryMetrics:
    """Area, perimeter and centroid in pixels (rings of (MULTI)POLYGON, LINESTRING, POINT)."""
    kind = wkt.strip().upper()
    rings = [_points(ring) for ring in _RING.findall(wkt)]
    all_points = [p for ring in rings for p in ring]
    if not all_points:
        return GeometryMetrics(0.0, 0.0, (0.0, 0.0))
    mean = (sum(p[0] for p in all_points) / len(all_points), sum(p[1] for p in all_points) / len(all_points))
    if kind.startswith("POINT"):
        return GeometryMetrics(0.0, 0.0, all_points[0])
    length = 0.0
    for ring in rings:
        length += sum(math.dist(a, b) for a, b in itertools.pairwise(ring))
    if kind.startswith("LINESTRING"):
        return GeometryMetrics(0.0, length, mean)
    area = 0.0
    cx = cy = 0.0
    for ring in rings:
        signed = 0.0
        for (x0, y0), (x1, y1) in itertools.pairwise(ring):
            cross = x0 * y1 - x1 * y0
            signed += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
        area += signed / 2
    if area == 0:
        return GeometryMetrics(0.0, length, mean)
    return GeometryMetrics(abs(area), length, (cx / (6 * area), cy / (6 * area)))
