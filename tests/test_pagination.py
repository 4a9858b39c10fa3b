"""Pagination over both envelopes and bare arrays, against servers paging each way."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.pagination import IncompleteListError, Page, pages, paginate

PAGE = 5


def max_offset_server(total: int, seen: list[Request], cap: int | None = None,
                      bare: bool = False) -> Callable[[Request], Response]:
    """A legacy/2025 listing (docs/server-facts.md 2.1): max (0/absent = all) and absolute offset."""

    def handler(request: Request) -> Response:
        seen.append(request)
        items = [{"id": i} for i in range(total)]
        size = int(request.args.get("max", 0))
        offset = int(request.args.get("offset", 0))
        if cap is not None:
            size = min(size or cap, cap)
        page = items[offset: offset + size] if size else items[offset:]
        if bare:
            return Response(json.dumps(page), content_type="application/json")
        body = {"collection": page, "offset": offset, "perPage": min(size, len(items)) if size else len(items),
                "size": total, "totalPages": math.ceil(total / size) if size else 1}
        return Response(json.dumps(body), content_type="application/json")

    return handler


def page_size_server(total: int, seen: list[Request]) -> Callable[[Request], Response]:
    """A 2026 repository listing (docs/server-facts.md 2.2): page/size, default 20, max/offset ignored."""

    def handler(request: Request) -> Response:
        seen.append(request)
        size = int(request.args.get("size", 20))
        number = int(request.args.get("page", 0))
        page = [{"id": i} for i in range(total)][number * size: (number + 1) * size]
        body = {"collection": page, "offset": number * size, "perPage": size, "size": total,
                "totalPages": math.ceil(total / size)}
        return Response(json.dumps(body), content_type="application/json")

    return handler


@pytest.fixture
def api(httpserver: HTTPServer) -> ApiClient:
    return ApiClient(Configuration(httpserver.url_for("")))


TOTALS = [0, 1, PAGE - 1, PAGE, PAGE + 1, 3 * PAGE + 2]


@pytest.mark.parametrize("total", TOTALS)
def test_max_offset_listing(httpserver: HTTPServer, api: ApiClient, total: int) -> None:
    seen: list[Request] = []
    httpserver.expect_request("/api/project.json").respond_with_handler(max_offset_server(total, seen))
    ids = [p.id for p in paginate(api.project_api.list, page_size=PAGE, with_members_count=True)]
    assert ids == list(range(total))
    assert len(seen) == max(1, math.ceil(total / PAGE))
    assert all(r.args["withMembersCount"] == "true" and r.args["max"] == str(PAGE) for r in seen)
    assert [r.args["offset"] for r in seen] == [str(PAGE * i) for i in range(len(seen))]


@pytest.mark.parametrize("total", TOTALS)
@pytest.mark.parametrize("generation", ["2026", "2025"])
def test_listing_whose_paging_changed_in_2026(httpserver: HTTPServer, api: ApiClient, total: int,
                                              generation: str) -> None:
    seen: list[Request] = []
    handler = page_size_server(total, seen) if generation == "2026" else max_offset_server(total, seen)
    httpserver.expect_request("/api/ontology/7/term.json").respond_with_handler(handler)
    ids = [t.id for t in paginate(api.term_api.list_by_ontology, 7, page_size=PAGE)]
    assert ids == list(range(total))
    assert len(seen) == max(1, math.ceil(total / PAGE))


@pytest.mark.parametrize("total", TOTALS)
def test_bare_array_listing(httpserver: HTTPServer, api: ApiClient, total: int) -> None:
    seen: list[Request] = []
    httpserver.expect_request("/api/project/3/commandhistory.json").respond_with_handler(
        max_offset_server(total, seen, bare=True))
    ids = [c.id for c in paginate(api.project_command_api.list_history_by_project, 3, page_size=PAGE)]
    assert ids == list(range(total))
    assert len(seen) == total // PAGE + 1  # without a total, only a short page ends the list


def test_server_returning_fewer_than_announced_raises(httpserver: HTTPServer, api: ApiClient) -> None:
    # e.g. a 2026 repository endpoint capping pages at 20 while the client asks for more
    seen: list[Request] = []
    httpserver.expect_request("/api/project.json").respond_with_handler(max_offset_server(27, seen, cap=20))
    with pytest.raises(IncompleteListError, match="27 items but answered 20"):
        list(paginate(api.project_api.list, page_size=50))


def test_server_ignoring_the_offset_raises(httpserver: HTTPServer, api: ApiClient) -> None:
    def handler(request: Request) -> Response:  # always the first page
        body = {"collection": [{"id": i} for i in range(PAGE)], "offset": 0, "perPage": PAGE, "size": 12}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/api/project.json").respond_with_handler(handler)
    with pytest.raises(IncompleteListError, match="answered from 0"):
        list(paginate(api.project_api.list, page_size=PAGE))


def test_server_ignoring_the_page_size_is_fine_when_complete(httpserver: HTTPServer, api: ApiClient) -> None:
    def everything(request: Request) -> Response:
        body = {"collection": [{"id": i} for i in range(12)], "offset": 0, "perPage": 12, "size": 12}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/api/project.json").respond_with_handler(everything)
    assert [p.id for p in paginate(api.project_api.list, page_size=PAGE)] == list(range(12))


def test_stops_exactly_at_the_announced_total(httpserver: HTTPServer, api: ApiClient) -> None:
    def handler(request: Request) -> Response:  # one item more than announced on the last page
        offset = int(request.args["offset"])
        items = [{"id": i} for i in range(offset, min(offset + PAGE, 8))]
        return Response(json.dumps({"collection": items, "offset": offset, "size": 7}),
                        content_type="application/json")

    httpserver.expect_request("/api/project.json").respond_with_handler(handler)
    assert [p.id for p in paginate(api.project_api.list, page_size=PAGE)] == list(range(7))


def test_pages_and_laziness(httpserver: HTTPServer, api: ApiClient) -> None:
    seen: list[Request] = []
    httpserver.expect_request("/api/project.json").respond_with_handler(max_offset_server(12, seen))
    first = next(pages(api.project_api.list, page_size=PAGE))
    assert isinstance(first, Page)
    assert (first.number, first.offset, first.total, len(first.items), first.has_next) == (0, 0, 12, 5, True)
    assert len(seen) == 1
    second = first.next_page()
    assert second is not None and [p.id for p in second.items] == list(range(5, 10))
    last = second.next_page()
    assert last is not None and (len(last.items), last.has_next, last.next_page()) == (2, False, None)
    seen.clear()
    assert [p.id for p in itertools.islice(paginate(api.project_api.list, page_size=PAGE), 3)] == [0, 1, 2]
    assert len(seen) == 1  # lazy: one page fetched for three items


def test_bad_arguments(api: ApiClient) -> None:
    with pytest.raises(TypeError, match="not a list operation"):
        paginate(api.project_api.retrieve).__next__()
    with pytest.raises(TypeError, match="max: paging is done for you"):
        next(paginate(api.project_api.list, max=5))
    with pytest.raises(ValueError, match="page_size"):
        next(paginate(api.project_api.list, page_size=0))
    with pytest.raises(ValueError, match="page_size: expected an integer from 1 to 2000"):
        next(paginate(api.term_api.list_by_ontology, 7, page_size=5000))
    with pytest.raises(TypeError, match="method"):
        next(paginate(print))  # type: ignore[call-overload]
