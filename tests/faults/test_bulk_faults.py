"""Bulk operations under faults: every item is reported created, failed (safe to re-send) or of
unknown outcome (the request went out, the answer was lost); nothing escapes, nothing is mixed up."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from pytest_httpserver import HTTPServer

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.bulk import BulkError, NewAnnotation, add_terms, create_annotations, delete_annotations
from tests.support.fault_server import Exchange, FaultServer

BULK_PATH = "/api/annotation.json"


def points(n: int, image: int = 1) -> list[NewAnnotation]:
    return [NewAnnotation(f"POINT ({i} 0)", image=image) for i in range(n)]


class Store:
    """The annotations a fault server really created, like a Cytomine core would."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.locations: dict[int, str] = {}  # id -> location
        self.release = threading.Event()  # lets stalled answers end when the test is over

    def create(self, items: list[dict[str, object]]) -> tuple[list[int], list[dict[str, object]]]:
        """Creates every item but those of image 999, as the 2025/2026 cores do: one by one."""
        created, errors = [], []
        with self.lock:
            for item in items:
                if item.get("image") == 999:
                    errors.append({"data": item, "message": "ImageInstance 999 not found"})
                    continue
                ident = 1000 + len(self.locations)
                self.locations[ident] = str(item["location"])
                created.append(ident)
        return created, errors


def bulk_answer(created: list[int], errors: list[dict[str, object]]) -> bytes:
    """A 2025/2026 bulk answer (docs/server-facts.md section 6)."""
    ids = ",".join(map(str, created))
    if not errors:
        data, status = {"message": f"userannotations {ids} added"}, 200
    elif not created:
        data, status = {"success": False, "message": "No entry saved", "errors": errors}, 400
    else:
        data, status = {"success": False, "message": f"Only part of the entries (userannotations {ids}",
                        "errors": errors}, 206
    return json.dumps({"data": data, "status": status}).encode()


@pytest.fixture
def store() -> Iterator[Store]:
    created = Store()
    yield created
    created.release.set()


def bulk_server(store: Store, misbehave: Callable[[Exchange, bytes], None], lost: Callable[[str], bool]) -> FaultServer:
    """Creates what is posted; for a chunk where `lost(first location)`, `misbehave` instead of answering."""

    def script(ex: Exchange) -> None:
        items = json.loads(ex.request.body)
        created, errors = store.create(items)
        answer = bulk_answer(created, errors)
        if lost(str(items[0]["location"])):
            misbehave(ex, answer)
        else:
            ex.respond(200, answer)

    return FaultServer(script)


def created_locations(report_created: list[tuple[int, int | None]], store: Store) -> dict[int, str]:
    return {index: store.locations[ident] for index, ident in report_created if ident is not None}


# -- item 1: an error body is not a per-item answer ------------------------------------------------

ERROR_ANSWERS = [
    (400, {"errors": {"message": "The body cannot be parsed"}, "errorValues": None}, "application/json",
     "The body cannot be parsed"),
    (403, {"errors": {"message": "You don't have the right to read or write"}}, "application/json",
     "You don't have the right"),
    (500, {"errors": {"message": "Middleware error"}, "errorValues": {}}, "application/json", "Middleware error"),
    (400, {"success": False, "errors": "Annotation image is mandatory", "errorValues": {}}, "application/json",
     "Annotation image is mandatory"),
    (409, {"success": False, "errors": "already exist"}, "application/json", "already exist"),
    (404, {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "Unable to find image 1",
           "instance": BULK_PATH}, "application/problem+json", "Unable to find image 1"),
    (401, "", "text/plain", "401"),
    (401, "<html><body><h1>HTTP Status 401 - Unauthorized</h1></body></html>", "text/html", "HTTP Status 401"),
]


@pytest.mark.parametrize(("status", "body", "content_type", "message"), ERROR_ANSWERS,
                         ids=[f"{a[0]}-{i}" for i, a in enumerate(ERROR_ANSWERS)])
def test_error_body_fails_every_item_of_the_chunk(httpserver: HTTPServer, status: int, body: object,
                                                  content_type: str, message: str) -> None:
    payload = body if isinstance(body, str) else json.dumps(body)
    httpserver.expect_request(BULK_PATH, method="POST").respond_with_data(payload, status, content_type=content_type)
    report = create_annotations(ApiClient(Configuration(httpserver.url_for(""), max_retries=0)), points(20))
    assert report.created == []  # not 19 "created" items that do not exist
    assert [f.index for f in report.failed] == list(range(20))
    assert all(message in f.reason for f in report.failed)
    assert report.unknown == []


# -- answers that do not tell what happened: unknown, not failed -----------------------------------

UNCLEAR_ANSWERS = [
    (502, "<html><body>502 Bad Gateway</body></html>", "text/html"),
    (504, "", "text/plain"),
    (500, "<html><body>Apache Tomcat: HTTP Status 500</body></html>", "text/html"),
    (200, '{"data": {"message": "userannotations 1,2', "application/json"),  # cut JSON
    (200, "<html>maintenance</html>", "text/html"),
]


@pytest.mark.parametrize(("status", "body", "content_type"), UNCLEAR_ANSWERS,
                         ids=[f"{a[0]}-{i}" for i, a in enumerate(UNCLEAR_ANSWERS)])
def test_unclear_answer_is_unknown(httpserver: HTTPServer, status: int, body: str, content_type: str) -> None:
    httpserver.expect_request(BULK_PATH, method="POST").respond_with_data(body, status, content_type=content_type)
    report = create_annotations(ApiClient(Configuration(httpserver.url_for(""), max_retries=0)), points(5))
    assert report.failed == [] and report.created == []  # re-sending them could duplicate them
    assert [u.index for u in report.unknown] == list(range(5))
    assert not report.ok


def test_errors_that_name_no_item_are_not_pinned_on_arbitrary_items(httpserver: HTTPServer) -> None:
    # The server's copy of the refused item differs from what was sent: which of the 3 it is, and
    # which ids belong to the other two, cannot be told.
    answer = {"data": {"success": False, "message": "Only part of the entries (userannotations 11,12",
                       "errors": [{"data": {"location": "POINT (9.0 0.0)"}, "message": "refused"}]},
              "status": 206}
    httpserver.expect_request(BULK_PATH, method="POST").respond_with_json(answer)
    report = create_annotations(ApiClient(Configuration(httpserver.url_for(""))), points(3))
    assert report.created == [] and report.failed == []
    assert [u.index for u in report.unknown] == [0, 1, 2]
    assert "refused 1 of these 3 items" in report.unknown[0].reason and "11,12" in report.unknown[0].reason


# -- item 2: a cut answer ends in the report, the other chunks are kept ----------------------------

def cut_body(ex: Exchange, answer: bytes) -> None:
    ex.send_head(200, {"Content-Type": "application/json", "Content-Length": str(len(answer))})
    ex.send_raw(answer[: len(answer) // 2])
    ex.reset()


def stall_body(store: Store) -> Callable[[Exchange, bytes], None]:
    def misbehave(ex: Exchange, answer: bytes) -> None:
        ex.send_head(200, {"Content-Type": "application/json", "Content-Length": str(len(answer))})
        ex.send_raw(answer[:10])
        store.release.wait(10)  # past the client's read timeout

    return misbehave


@pytest.mark.parametrize("fault", ["cut", "stall"])
def test_answer_lost_while_read_keeps_every_other_chunk(store: Store, fault: str) -> None:
    misbehave = cut_body if fault == "cut" else stall_body(store)
    seen: list[tuple[int, int | None]] = []
    with bulk_server(store, misbehave, lost=lambda first: first == "POINT (20 0)") as server:
        api = ApiClient(Configuration(server.url, read_timeout=0.5, max_retries=0))
        report = create_annotations(api, points(50), chunk_size=10, workers=3,
                                    on_progress=lambda done, total: seen.append((done, total)))
    assert [u.index for u in report.unknown] == list(range(20, 30))  # created on the server, answer lost
    assert report.failed == []
    assert [c.index for c in report.created] == [*range(20), *range(30, 50)]
    # each id is the one the server gave that very item
    assert created_locations([(c.index, c.id) for c in report.created], store) == {
        c.index: f"POINT ({c.index} 0)" for c in report.created}
    assert seen[-1] == (50, 50)


# -- item 3: a lost answer is unknown; re-sending what failed makes no duplicate -------------------

def reset(ex: Exchange, answer: bytes) -> None:
    ex.reset()


def stall(store: Store) -> Callable[[Exchange, bytes], None]:
    def misbehave(ex: Exchange, answer: bytes) -> None:
        store.release.wait(10)

    return misbehave


@pytest.mark.parametrize("fault", ["reset", "read timeout"])
def test_lost_answer_is_unknown_and_retrying_failed_duplicates_nothing(store: Store, fault: str) -> None:
    items = points(30)
    items[3] = NewAnnotation("POINT (3 0)", image=999)  # refused by the server
    misbehave = reset if fault == "reset" else stall(store)
    with bulk_server(store, misbehave, lost=lambda first: first == "POINT (20 0)") as server:
        api = ApiClient(Configuration(server.url, read_timeout=0.5, max_retries=0))
        report = create_annotations(api, items, chunk_size=10, workers=3)
        assert [f.index for f in report.failed] == [3]  # only what the server refused
        assert "ImageInstance 999 not found" in report.failed[0].reason
        assert [u.index for u in report.unknown] == list(range(20, 30))
        assert all(u.item is items[u.index] for u in report.unknown)
        assert len(store.locations) == 29
        retried = create_annotations(api, [f.item for f in report.failed])
    assert len(retried.failed) == 1
    assert sorted(store.locations.values()) == sorted({f"POINT ({i} 0)" for i in range(30) if i != 3})  # no duplicate
    assert not report.ok
    with pytest.raises(BulkError, match=r"30 items: 19 created, 1 failed, 10 unknown; .*reconcile"):
        report.raise_for_failures()


def test_chunk_is_not_resent_even_with_retry_non_idempotent(store: Store) -> None:
    with bulk_server(store, reset, lost=lambda first: True) as server:
        api = ApiClient(Configuration(server.url, max_retries=2, retry_backoff=0.01, retry_non_idempotent=True))
        report = create_annotations(api, points(5))
        assert len(server.requests) == 1
    assert len(store.locations) == 5
    assert [u.index for u in report.unknown] == list(range(5)) and report.failed == []


def test_refused_connection_fails_as_nothing_was_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nobody listens there
    api = ApiClient(Configuration(f"http://127.0.0.1:{port}", max_retries=0))
    for report in (create_annotations(api, points(3)), add_terms(api, [(1, 2)]), delete_annotations(api, [4])):
        assert report.unknown == [] and report.created == []
        assert report.failed and all("refused" in f.reason.lower() for f in report.failed)


def test_add_terms_and_delete_report_lost_answers_as_unknown() -> None:
    done: list[str] = []

    def script(ex: Exchange) -> None:
        target = ex.request.target
        done.append(f"{ex.request.method} {target}")
        if target in ("/api/annotation/3/term/4.json", "/api/annotation/6.json"):
            ex.reset()  # acted on, answer lost
        elif ex.request.method == "POST":
            annotation, term = map(int, re.findall(r"\d+", target))
            ex.respond(200, json.dumps({"annotationterm": {"id": annotation * 10 + term}}).encode())
        else:
            ex.respond(200, b'{"message": "deleted"}')

    with FaultServer(script) as server:
        api = ApiClient(Configuration(server.url, max_retries=0))
        terms = add_terms(api, [(1, 2), (3, 4)])
        deleted = delete_annotations(api, [5, 6])
    assert [(c.index, c.id) for c in terms.created] == [(0, 12)]
    assert [(u.index, u.item) for u in terms.unknown] == [(1, (3, 4))] and terms.failed == []
    assert [c.id for c in deleted.created] == [5]
    assert [u.item for u in deleted.unknown] == [6] and deleted.failed == []


# -- invalid geometries (shapely) fail before sending; the chunks they leave keep exact reports -----

def test_invalid_geometries_leave_every_other_item_reported_exactly(store: Store) -> None:
    bowtie = "POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))"
    items = points(30)
    items[3] = NewAnnotation("POINT (3 0)", image=999)  # refused by the server
    items[5] = NewAnnotation(bowtie, image=1)
    items[12] = NewAnnotation(bowtie, image=1)
    # Without 5 and 12 the chunks of 10 start at items 0, 11 and 22: the answer of the second is lost.
    with bulk_server(store, reset, lost=lambda first: first == "POINT (11 0)") as server:
        api = ApiClient(Configuration(server.url, max_retries=0))
        report = create_annotations(api, items, chunk_size=10, workers=3)
        assert sorted(len(json.loads(r.body)) for r in server.requests) == [8, 10, 10]
    assert [(f.index, f.reason) for f in report.failed] == [
        (3, "ImageInstance 999 not found"),
        (5, "invalid geometry, not sent: Self-intersection[5 5]"),
        (12, "invalid geometry, not sent: Self-intersection[5 5]"),
    ]
    assert [u.index for u in report.unknown] == [11, *range(13, 22)]
    assert [c.index for c in report.created] == [0, 1, 2, 4, *range(6, 11), *range(22, 30)]
    assert created_locations([(c.index, c.id) for c in report.created], store) == {
        c.index: f"POINT ({c.index} 0)" for c in report.created}
    assert bowtie not in store.locations.values()
    everything = [*report.created, *report.failed, *report.unknown]
    assert sorted(e.index for e in everything) == list(range(30))  # each item exactly once
