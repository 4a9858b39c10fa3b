"""Geometries of a bulk creation checked before sending: with shapely, an invalid one (a
self-intersecting polygon, ...) fails alone with shapely's reason and is never sent; a malformed
one is a ValueError naming the item, with shapely or without (the hand-written parser)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely

from cytomine_sdk.bulk import NewAnnotation, create_annotations
from tests.support.stub import CytomineStub

ROOT = Path(__file__).resolve().parent.parent
SQUARE = "POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0))"
BOWTIE = "POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))"  # its edges cross at (5 5)


@pytest.fixture
def stub() -> Iterator[CytomineStub]:
    with CytomineStub("2026") as server:
        yield server


def sent_locations(stub: CytomineStub) -> list[str]:
    return [item["location"] for r in stub.requests if r.method == "POST" for item in r.json()]


def test_invalid_geometries_fail_alone_with_shapelys_reason(stub: CytomineStub) -> None:
    items = [
        NewAnnotation(SQUARE, image=200, terms=[20]),
        NewAnnotation(BOWTIE, image=200),
        NewAnnotation(shapely.Point(50, 50).buffer(10), image=201),
        NewAnnotation(shapely.Polygon([(0, 0), (4, 4), (4, 0), (0, 4)]), image=200),  # a bowtie too
        NewAnnotation("POLYGON ((0 0, 10 0, 10 0, 0 0))", image=200),  # 4 points, 2 distinct
        NewAnnotation({"type": "Point", "coordinates": [10, 20]}, image=201),
    ]
    seen: list[tuple[int, int | None]] = []
    report = create_annotations(stub.client(), items, chunk_size=2, on_progress=lambda d, t: seen.append((d, t)))
    assert [c.index for c in report.created] == [0, 2, 5]
    assert [(f.index, f.reason) for f in report.failed] == [
        (1, "invalid geometry, not sent: Self-intersection[5 5]"),
        (3, "invalid geometry, not sent: Self-intersection[2 2]"),
        (4, "invalid geometry, not sent: Too few points in geometry component[0 0]"),
    ]
    assert all(f.item is items[f.index] for f in report.failed)
    assert report.unknown == [] and not report.ok
    assert seen[-1] == (6, 6)  # the items failed before sending are counted too
    sent = sent_locations(stub)
    assert len(sent) == 3 and BOWTIE not in sent and "POLYGON ((0 0, 10 0, 10 0, 0 0))" not in sent
    created = {a.id: a for a in stub.state.annotations.values()}
    assert [created[i].image for i in report.ids if i is not None] == [200, 201, 201]


def test_only_invalid_items_sends_nothing(stub: CytomineStub) -> None:
    report = create_annotations(stub.client(), [NewAnnotation(BOWTIE, image=200)] * 3)
    assert [f.index for f in report.failed] == [0, 1, 2] and report.created == []
    assert sent_locations(stub) == []


@pytest.mark.parametrize(
    ("wkt", "reason"),
    [
        ("POINT (nan 2)", "point 1 (position 7): coordinate 'nan' is not finite"),
        ("POINT (1e999 2)", "point 1 (position 7): coordinate '1e999' is not finite"),
        ("POLYGON ((0 0, 1 1, 0 0))", "a polygon ring needs at least 4 points, got 3"),
        ("POLYGON ((0 0, 10 0, 10 10, 0 10))", "a polygon ring must end where it starts"),
        ("POINT (1 2; 3 4)", "unexpected character ';'"),
        ("   ", "empty geometry"),
    ],
)
def test_malformed_geometry_is_a_value_error_before_any_request(stub: CytomineStub, wkt: str, reason: str) -> None:
    before = len(stub.requests)
    with pytest.raises(ValueError, match="^" + re.escape(f"annotations[2]: {reason}")):
        create_annotations(stub.client(), [NewAnnotation(SQUARE, image=200), NewAnnotation(BOWTIE, image=200),
                                          NewAnnotation(wkt, image=200)])
    assert len(stub.requests) == before


# Without shapely: the same call in a fresh interpreter where `import shapely` fails.
WITHOUT_SHAPELY = """
import json, sys
sys.modules["shapely"] = None  # `import shapely` raises ImportError, as when it is not installed
from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.bulk import NewAnnotation, create_annotations
from tests.support.stub import CytomineStub

with CytomineStub("2026") as stub:
    api = ApiClient(Configuration(stub.host, public_key=stub.public_key, private_key=stub.private_key))
    report = create_annotations(api, [NewAnnotation({square!r}, image=200), NewAnnotation({bowtie!r}, image=200)])
    try:
        create_annotations(api, [NewAnnotation({square!r}, image=200), NewAnnotation("POINT (nan 2)", image=200)])
        malformed = None
    except ValueError as exc:
        malformed = str(exc)
print(json.dumps({{"created": [c.index for c in report.created], "failed": [f.index for f in report.failed],
                  "malformed": malformed, "numpy": "numpy" in sys.modules}}))
"""


def test_without_shapely_the_parser_still_refuses_malformed_geometries() -> None:
    code = textwrap.dedent(WITHOUT_SHAPELY).format(square=SQUARE, bowtie=BOWTIE)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # Well-formed, so sent: only shapely tells a self-intersection (the server then decides).
    assert result["created"] == [0, 1] and result["failed"] == []
    assert result["malformed"] == "annotations[1]: point 1 (position 7): coordinate 'nan' is not finite; " \
                                  "coordinates must be finite numbers"
    assert result["numpy"] is False
