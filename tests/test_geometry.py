"""Geometries: WKT, shapely and GeoJSON accepted; malformed ones refused with the reason."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import mapping

from cytomine_sdk.geometry import _validate_by_parser, check_wkt, to_wkt, validate_wkts

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
    ("POINT (nan 2)", "point 1 (position 7): coordinate 'nan' is not finite"),
    ("LINESTRING (0 0, 1 -Infinity)", "point 2 (position 19): coordinate '-Infinity' is not finite"),
    ("POINT (1e999 2)", "point 1 (position 7): coordinate '1e999' is not finite"),
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


NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    ("geometry", "where"),
    [
        ({"type": "Point", "coordinates": [NAN, 1]}, "coordinates[0]"),
        ({"type": "LineString", "coordinates": [[0, 0], [1, INF]]}, "coordinates[1][1]"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, -INF], [0, 0]]]}, "coordinates[0][2][1]"),
        ({"type": "MultiPoint", "coordinates": [[0, 0], [NAN, 0]]}, "coordinates[1][0]"),
        ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 1, NAN]}}, "geometry.coordinates[2]"),
        ({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [0, 0]},
                                                       {"type": "LineString", "coordinates": [[0, 0], [INF, 1]]}]},
         "geometries[1].coordinates[1][0]"),
        (shapely.Point(NAN, 2), "coordinates[0]"),
        (shapely.LineString([(0, 0), (INF, 1)]), "coordinates[1][0]"),
        (shapely.Polygon([(0, 0), (1, 0), (1, -INF), (0, 0)]), "coordinates[0][2][1]"),
    ],
    ids=["point", "linestring", "polygon", "multipoint", "feature", "collection",
         "shapely-point", "shapely-linestring", "shapely-polygon"],
)
def test_non_finite_coordinates_say_so_and_where(geometry: Any, where: str) -> None:
    with pytest.raises(ValueError, match=r"is not finite") as caught:
        to_wkt(geometry)
    message = str(caught.value)
    assert message.startswith(f"{where}: coordinate "), message
    assert "got 0" not in message


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # shapely building with NaN
@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(coordinate, coordinate), min_size=4, max_size=12), st.data())
def test_any_non_finite_coordinate_is_reported(points: list[tuple[float, float]], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(points) - 1))
    axis = data.draw(st.integers(0, 1))
    bad = data.draw(st.sampled_from([NAN, INF, -INF]))
    spoiled = [list(p) for p in points]
    spoiled[index][axis] = bad
    line = {"type": "LineString", "coordinates": spoiled}
    with pytest.raises(ValueError, match=re.escape(f"coordinates[{index}][{axis}]: coordinate ")):
        to_wkt(line)
    with pytest.raises(ValueError, match=re.escape(f"coordinates[{index}][{axis}]: coordinate ")):
        to_wkt(shapely.LineString(spoiled))
    with pytest.raises(ValueError, match=rf"point {index + 1} \(position \d+\): coordinate .* is not finite"):
        check_wkt(shapely.LineString(spoiled).wkt)


def test_validate_wkts_reads_all_at_once_and_gives_shapelys_reasons() -> None:
    wkts = [*VALID, "POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))", "LINESTRING (3 3, 3 3)",
            "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (20 20, 30 20, 30 30, 20 20))"]
    assert validate_wkts(wkts) == [None] * len(VALID) + [
        "Self-intersection[5 5]", "Too few points in geometry component[3 3]", "Hole lies outside shell[20 20]"]
    assert validate_wkts([]) == []


@pytest.mark.parametrize("validate", [validate_wkts, _validate_by_parser], ids=["shapely", "parser"])
@pytest.mark.parametrize(("wkt", "reason"), INVALID)
def test_validate_wkts_refuses_malformed_ones_as_the_parser_does(validate: Any, wkt: str, reason: str) -> None:
    """With shapely or without, the same geometries are malformed, with the parser's message."""
    with pytest.raises(ValueError, match=r"^shapes\[1\]: .*" + re.escape(reason)):
        validate(["POINT (0 0)", wkt, "POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))"], "shapes")


def test_validate_wkts_refuses_what_shapely_cannot_read_with_its_reason() -> None:
    check_wkt("POINT Z (1 2)")  # the parser lets a Z point without z pass, GEOS does not
    message = "geometries[1]: ParseException: Expected number but encountered ')'"
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_wkts(["POINT (1 2)", "POINT Z (1 2)"])


def test_without_shapely_well_formed_is_valid() -> None:
    assert _validate_by_parser(["POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))", "POINT (1 2)"], "shapes") == [None, None]
    with pytest.raises(ValueError, match=r"^shapes\[0\]: empty geometry"):
        _validate_by_parser([None], "shapes")  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"^geometries\[0\]: empty geometry"):
        validate_wkts([None])  # type: ignore[list-item]
