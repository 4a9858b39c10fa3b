"""The surface of the operations: plain signatures, per-call options, strict and cheap argument
checks, raw and streaming access, typed errors. Against a local server that checks signatures."""

from __future__ import annotations

import inspect
import json
import re
import time
from collections.abc import Callable

import numpy
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.exceptions import (
    APITimeoutError,
    CytomineError,
    InvalidArgumentError,
    InvalidResponseError,
    NotFoundError,
)
from cytomine_sdk.models import Project
from cytomine_sdk_gen.operations import OPERATIONS
from cytomine_sdk_gen.services import SERVICE_NAMES
from tests.conftest import CytomineTestServer
from tests.support.samples import call

PROJECT = {"id": 42, "name": "Lung", "ontology": 7}


@pytest.fixture
def server2026(httpserver: HTTPServer) -> CytomineTestServer:
    return CytomineTestServer(httpserver, "2026")


def test_extra_query_is_sent_and_signed_like_declared_parameters(server: CytomineTestServer) -> None:
    server.route("GET", "/api/user.json", body={"collection": [], "size": 0})
    api = server.client(signature=server.generation)
    api.user_api.list(extra_query={"status[equals]": "online", "ids": [1, 2], "withRoles": True})
    assert server.rejected == 0 and server.last.caller is not None
    assert server.last.query["status[equals]"] == ["online"]
    assert server.last.query["ids"] == ["1", "2"]
    assert server.last.query["withRoles"] == ["true"]


def test_extra_headers_and_extra_body(server: CytomineTestServer) -> None:
    server.route("POST", "/api/project.json", body={"message": "ok", "project": PROJECT})
    api = server.client(signature=server.generation)
    api.project_api.create(Project(name="Lung"), extra_headers={"X-Trace": "t1"}, extra_body={"ontology": 7})
    assert server.rejected == 0
    assert server.last.headers["X-Trace"] == "t1"
    assert server.last.json() == {"name": "Lung", "ontology": 7}


def test_integers_of_any_integral_type_and_iterables_of_ids(server: CytomineTestServer) -> None:
    server.route("GET", "/api/project/42.json", body=PROJECT)
    server.route("GET", "/api/annotation.json", body={"collection": [], "size": 0})
    api = server.client(signature=server.generation)
    assert api.project_api.retrieve(numpy.int64(42)).id == 42
    api.annotation_api.list(terms=numpy.array([1, 2], dtype=numpy.int32), users=(u for u in (3, 4)))
    assert server.last.query["terms"] == ["1,2"] and server.last.query["users"] == ["3,4"]


@pytest.mark.parametrize(("call", "message"), [
    (lambda api: api.project_api.retrieve("42"), "project_api.retrieve(): id must be an integer, got str '42'"),
    (lambda api: api.project_api.retrieve(True), "project_api.retrieve(): id must be an integer, got bool True"),
    (lambda api: api.project_api.retrieve(None), "project_api.retrieve(): id is required"),
    (lambda api: api.annotation_api.list(terms=[1, "x"]), "annotation_api.list(): terms[1] must be an integer"),
    (lambda api: api.annotation_api.list(terms=5), "annotation_api.list(): terms must be a list of int"),
    (lambda api: api.annotation_api.list(show_wkt="yes"), "annotation_api.list(): show_wkt must be True or False"),
    (lambda api: api.project_api.retrieve(1, extra_body={"a": 1}), "extra_body"),
])
def test_wrong_arguments_fail_before_sending_naming_the_method_and_argument(
        httpserver: HTTPServer, call: Callable[[ApiClient], object], message: str) -> None:
    api = ApiClient(Configuration(httpserver.url_for(""), public_key="p", private_key="k"))
    with pytest.raises((InvalidArgumentError, TypeError)) as info:
        call(api)
    assert message in str(info.value)
    assert isinstance(info.value, TypeError)
    assert len(httpserver.log) == 0


def test_raw_response_and_its_parse(server: CytomineTestServer) -> None:
    server.route("GET", "/api/project/42.json", body=PROJECT)
    api = server.client(signature=server.generation)
    raw = api.project_api.with_raw_response.retrieve(42)
    assert raw.status_code == 200 and raw.headers["Content-Type"] == "application/json"
    assert json.loads(raw.content) == PROJECT
    project = raw.parse()
    assert isinstance(project, Project) and project.name == "Lung"


def test_streaming_response_reads_the_body_as_it_comes(server: CytomineTestServer) -> None:
    blob = bytes(range(256)) * 4096
    server.route("GET", "/api/attachedfile/5/download", body=blob, content_type="application/octet-stream")
    api = server.client(signature=server.generation, max_binary_in_memory=1024)
    with api.attached_file_api.with_streaming_response.download(5) as answer:
        assert answer.status_code == 200
        assert b"".join(answer.iter_bytes(65536)) == blob


UNTYPED = sorted(op.id for op in OPERATIONS.values()
                 if op.returns in ("object", "list[object]") or (op.returns or "").startswith("dict["))


@pytest.mark.parametrize("op_id", UNTYPED)
def test_an_answer_that_is_not_json_is_an_invalid_response_whatever_the_declared_type(
        server2026: CytomineTestServer, op_id: str) -> None:
    op = OPERATIONS[op_id]
    server2026.route(op.method, "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(op.path)) + "$",
                     body=b"<html>oops</html>", content_type="text/html")
    with pytest.raises(InvalidResponseError) as info:
        call(server2026.client(), op)
    assert f"{op.service}.{op.verb}()" in str(info.value) and info.value.status == 200


def test_timeout_number_applies_to_connect_and_read_and_a_pair_to_each(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.4)
        return Response(json.dumps(PROJECT), content_type="application/json")

    httpserver.expect_request("/api/project/42.json").respond_with_handler(slow)
    api = ApiClient(Configuration(httpserver.url_for(""), public_key="p", private_key="k", max_retries=0))
    with pytest.raises(APITimeoutError):
        api.project_api.retrieve(42, timeout=0.1)
    with pytest.raises(APITimeoutError):
        api.project_api.retrieve(42, timeout=(5, 0.1))
    assert api.project_api.retrieve(42, timeout=(5, 2)).id == 42
    time.sleep(0.5)


def test_errors_name_the_request(server: CytomineTestServer) -> None:
    server.route("GET", "/api/project/9.json", body={"errors": {"message": "Project not found"}}, status=404)
    with pytest.raises(NotFoundError) as info:
        server.client(signature=server.generation).project_api.retrieve(9)
    assert isinstance(info.value, CytomineError) and "/api/project/9.json" in str(info.value)


def test_help_is_readable_and_dir_shows_what_users_call() -> None:
    api = ApiClient(Configuration("https://cytomine.example.org", public_key="p", private_key="k"))
    longest = max(
        (len(str(inspect.signature(getattr(getattr(api, op.service), op.verb)))), op.id) for op in OPERATIONS.values()
    )
    assert longest[0] < 1500, longest
    doc = inspect.getdoc(api.annotation_api.list) or ""
    assert "GET /api/annotation.json" in doc and "2026" in doc
    public = {name for name in dir(api) if not name.startswith("_")}
    assert set(SERVICE_NAMES) <= public
    assert public - set(SERVICE_NAMES) == {
        "bearer_token", "close", "configuration", "fetch", "generation", "send", "server_generation", "signs",
        "whoami", "with_options",
    }
    project_api = {name for name in dir(api.project_api) if not name.startswith("_")}
    assert {"retrieve", "list", "create", "with_raw_response", "with_streaming_response"} <= project_api
    assert not any(name.endswith(("_with_http_info", "_without_preload_content")) for name in project_api)


def test_a_misspelt_flag_is_refused_like_any_unknown_keyword(httpserver: HTTPServer) -> None:
    api = ApiClient(Configuration(httpserver.url_for(""), public_key="p", private_key="k"))
    with pytest.raises(TypeError, match="list\\(\\) got an unexpected keyword argument 'show_wtk'"):
        api.annotation_api.list(show_wtk=True)  # type: ignore[call-arg]
    assert len(httpserver.log) == 0
