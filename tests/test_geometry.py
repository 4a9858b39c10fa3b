"""Geometries: WKT, shapely and GeoJSON accepted; malformed ones refused with the reason."""

from __future__ import annotations

import re

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import mapping

from cytomine_sdk.geometry import check_wkt, to_wkt

VALID = [
    "POINT (10 20)",
    "POINT Z (1 2 3)",
    "LINESTRING (0 0, 10 10, 20 0)",
    "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))",
    "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 4 2, 4 4, 2 2))",
    "MULTIPOINT (1 2, 3 4)",
    "MULTIPOINT ((1 2), (3 4))",
    "MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))",
    "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))",
    "GEOMETRYCOLLECTION (POINT (1 1), LINESTRING (0 0, 1 1))",
    "POLYGON EMPTY",
    "polygon((1.5e3 -2, 3 4, 5 6, 1.5e3 -2))",
]

INVALID = [
    ("", "empty"),
    ("POLYGON ((0 0, 10 0, 10 10, 0 10))", "closed"),
    ("POLYGON ((0 0, 1 1, 0 0))", "at least 4 points"),
    ("POLYGON ((0 0, 10 0, 10 10, 0 0)", "expected ')' but found 'the end'"),
    ("POINT (1)", "2 to 4 coordinates"),
    ("LINESTRING (1 1)", "at least 2 points"),
    ("CIRCLE (0 0, 5)", "unknown geometry type"),
    ("POINT (1 2) extra", "after the geometry"),
    ("POINT (1 2; 3 4)", "unexpected character"),
    ("POINT (nan 2)", "2 to 4 coordinates, got 0"),
]


@pytest.mark.parametrize("wkt", VALID)
def test_valid_wkt(wkt: str) -> None:
    assert check_wkt(wkt) == wkt.strip()


@pytest.mark.parametrize(("wkt", "reason"), INVALID)
def test_malformed_wkt_is_refused_with_a_reason(wkt: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        check_wkt(wkt)


def test_shapely_and_geojson() -> None:
    polygon = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 0)], holes=[[(2, 1), (3, 1), (3, 2), (2, 1)]])
    assert shapely.from_wkt(to_wkt(polygon)).equals(polygon)
    assert shapely.from_wkt(to_wkt(mapping(polygon))).equals(polygon)
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1.5, 2]}}
    assert to_wkt(feature) == "POINT (1.5 2)"
    with pytest.raises(ValueError, match="GeoJSON"):
        to_wkt({"type": "Polygon"})
    with pytest.raises(ValueError, match="expected WKT"):
        to_wkt(42)


coordinate = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(coordinate, coordinate), min_size=3, max_size=20))
def test_any_shapely_geometry_round_trips(points: list[tuple[float, float]]) -> None:
    for geometry in (shapely.LineString(points), shapely.Polygon(points), shapely.MultiPoint(points)):
        wkt = to_wkt(geometry)
        assert shapely.from_wkt(wkt).equals_exact(geometry, 1e-9)
        assert shapely.from_wkt(to_wkt(mapping(geometry))).equals_exact(geometry, 1e-6)
