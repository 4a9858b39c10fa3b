"""Bulk annotations against the stub of each generation: every item created or reported failed."""

from __future__ import annotations

import pytest
import shapely
from pytest_httpserver import HTTPServer

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.bulk import BulkError, NewAnnotation, add_terms, create_annotations, delete_annotations
from cytomine_sdk.models import UserAnnotation
from tests.support.stub import CytomineStub

SQUARE = "POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0))"


@pytest.fixture
def stub(generation: str) -> CytomineStub:
    with CytomineStub(generation) as server:
        yield server


def client(stub: CytomineStub) -> ApiClient:
    return ApiClient(Configuration(stub.host, public_key=stub.public_key, private_key=stub.private_key))


def test_all_created_with_ids(stub: CytomineStub) -> None:
    items = [NewAnnotation(SQUARE, image=200, terms=[20]),
             NewAnnotation(shapely.Point(5, 5).buffer(3), image=200),
             NewAnnotation({"type": "Point", "coordinates": [10, 20]}, image=201),
             UserAnnotation(location="LINESTRING (0 0, 5 5)", image=201)]
    seen: list[tuple[int, int | None]] = []
    report = create_annotations(client(stub), items, chunk_size=3, on_progress=lambda d, t: seen.append((d, t)))
    assert report.ok and report.failed == []
    assert [c.index for c in report.created] == [0, 1, 2, 3]
    assert all(isinstance(i, int) for i in report.ids)
    created = {a.id: a for a in stub.state.annotations.values()}
    assert created[report.ids[0]].image == 200 and created[report.ids[2]].location.startswith("POINT")
    assert seen[-1] == (4, 4)
    posts = [r for r in stub.requests if r.method == "POST"]
    assert sorted(len(r.json()) for r in posts if r.status != 401) == [1, 3]  # two chunks, sent concurrently


def test_partial_failure_reports_each_item(stub: CytomineStub) -> None:
    items = [NewAnnotation(SQUARE, image=200), NewAnnotation(SQUARE, image=999),
             NewAnnotation(SQUARE, image=201), NewAnnotation(SQUARE, image=998),
             NewAnnotation(SQUARE, image=997)]
    report = create_annotations(client(stub), items, chunk_size=2, workers=2)
    assert [c.index for c in report.created] == [0, 2]
    assert [(f.index, "not found" in f.reason) for f in report.failed] == [(1, True), (3, True), (4, True)]
    assert all(f.item is items[f.index] for f in report.failed)
    assert report.unknown == [] and not report.ok
    with pytest.raises(BulkError, match="5 items: 2 created, 3 failed, 0 unknown; first failed: item 1: ImageInstance"):
        report.raise_for_failures()
    assert len(stub.state.annotations) >= 2


def test_malformed_geometry_fails_before_any_request(stub: CytomineStub) -> None:
    api = client(stub)
    before = len(stub.requests)
    with pytest.raises(ValueError, match=r"annotations\[1\]: a polygon ring must end where it starts"):
        create_annotations(api, [NewAnnotation(SQUARE, image=200),
                                 NewAnnotation("POLYGON ((0 0, 1 0, 1 1, 0 1))", image=200)])
    with pytest.raises(ValueError, match=r"annotations\[0\]: image"):
        create_annotations(api, [NewAnnotation(SQUARE, image=0)])
    assert len(stub.requests) == before


def test_bulk_delete(stub: CytomineStub) -> None:
    api = client(stub)
    report = create_annotations(api, [NewAnnotation(SQUARE, image=200)] * 3)
    ids = [i for i in report.ids if i is not None]
    assert len(ids) == 3
    deleted = delete_annotations(api, [*ids, 123456789])
    assert [c.id for c in deleted.created] == ids
    assert [(f.item, "404" in f.reason) for f in deleted.failed] == [(123456789, True)]
    assert not set(ids) & set(stub.state.annotations)
    with pytest.raises(ValueError, match=r"ids\[0\]"):
        delete_annotations(api, ["12"])  # type: ignore[list-item]


def test_add_terms_reports_each_pair(httpserver: HTTPServer) -> None:
    import json
    import re

    from werkzeug import Request, Response

    def handler(request: Request) -> Response:
        annotation, term = map(int, re.findall(r"\d+", request.path))
        body = json.loads(request.get_data())
        assert body == {"userannotation": annotation, "term": term}  # ids in the body too
        if term == 99:
            return Response(json.dumps({"success": False, "errors": "Term 99 not in the ontology"}), status=400,
                            content_type="application/json")
        return Response(json.dumps({"message": "ok", "annotationterm": {"id": annotation * 10 + term}}),
                        content_type="application/json")

    httpserver.expect_request(re.compile(r"/api/annotation/\d+/term/\d+.json"), method="POST").respond_with_handler(
        handler)
    api = ApiClient(Configuration(httpserver.url_for("")))
    report = add_terms(api, [(1, 2), (3, 99), (5, 6)], workers=2)
    assert [(c.index, c.id) for c in report.created] == [(0, 12), (2, 56)]
    assert [(f.index, f.item) for f in report.failed] == [(1, (3, 99))]
    assert "Term 99 not in the ontology" in report.failed[0].reason
    with pytest.raises(ValueError, match=r"associations\[0\]"):
        add_terms(api, [(1, "2")])  # type: ignore[list-item]
