"""Answers that do not fit at all: an empty body where a model is declared, JSON nested thousands
deep. Each is an InvalidResponseError naming the status, method and URL, never a None the caller
takes for a result nor a RecursionError; an empty body is None only for the operations a server
really answers empty (spec: x-cytomine-empty-body)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.exceptions import InvalidResponseError
from cytomine_sdk.models import AppEngineProvision, Project, Storage, Term
from cytomine_sdk.parsing import NotJSONError, loads, parse_model, parse_model_list, validate_lenient
from cytomine_sdk_gen.models import OntologyTreeNode
from cytomine_sdk_gen.operations import OPERATIONS, Operation
from tests.conftest import CytomineTestServer
from tests.support.samples import call

Call = Callable[[ApiClient], Any]

# Operations declared to answer a body, one per kind of declared type: (call, method, path, type).
DECLARED: dict[str, tuple[Call, str, str, str]] = {
    "model": (lambda c: c.project_api.retrieve(7), "GET", "/api/project/7.json", "Project"),
    "command": (lambda c: c.project_api.create(Project(name="p")), "POST", "/api/project.json", "ProjectCommand"),
    "envelope": (lambda c: c.project_api.list(), "GET", "/api/project.json", "ProjectCollection"),
    "list": (lambda c: c.annotation_layer_api.list_by_image(7), "GET", "/api/image-instances/7/annotation-layers",
             "list[AnnotationLayer]"),
    "map": (lambda c: c.abstract_image_api.extract_properties(7), "POST",
            "/api/abstractimage/7/properties/extract.json", "dict[str, object]"),
    "map-of-bool": (lambda c: c.custom_ui_api.retrieve_config(), "GET", "/api/custom-ui/config.json",
                    "dict[str, bool]"),
    "map-of-models": (lambda c: c.custom_ui_api.retrieve_project_config(7), "GET", "/api/custom-ui/project/7.json",
                      "dict[str, CustomUIProjectFlags]"),
    "object": (lambda c: c.app_engine_task_run_api.set_input(7, "run", "p", AppEngineProvision()), "PUT",
               "/api/app-engine/project/7/task-runs/run/input-provisions/p", "object"),
    "list-of-objects": (lambda c: c.app_engine_task_run_api.set_inputs(7, "run", [AppEngineProvision()]), "PUT",
                        "/api/app-engine/project/7/task-runs/run/input-provisions", "list[object]"),
    # Same method and path as storage.create, which may answer empty: the array form may not.
    "bulk": (lambda c: c.storage_api.create_many([Storage(name="s")]), "POST", "/api/storage.json", "BulkResult"),
}

EMPTY_BODY_OPERATIONS = sorted(op_id for op_id, op in OPERATIONS.items() if op.empty_body)


@pytest.mark.parametrize(("status", "body"), [(200, b""), (201, b""), (204, b""), (200, b" \n"), (200, b"null")])
@pytest.mark.parametrize("kind", list(DECLARED))
def test_an_empty_answer_where_a_body_is_declared_is_an_error(
    server: CytomineTestServer, kind: str, status: int, body: bytes
) -> None:
    call, method, path, type_name = DECLARED[kind]
    server.route(method, path, body, status=status)
    with pytest.raises(InvalidResponseError) as info:
        call(server.client(max_retries=0))
    error = info.value
    assert (error.status, error.method) == (status, method)
    assert error.url.partition("?")[0] == server.host + path
    assert f"{'null' if body == b'null' else 'empty'} answer where {type_name} was expected" in str(error)


def _call(client: ApiClient, op: Operation) -> Any:
    return call(client, op, **{p.name: "c0ffee" for p in op.params if p.kind == "str"})


def _path_pattern(op: Operation) -> str:
    literal = re.split(r"\{[^}]+\}", op.path)
    return "^" + "[^/]+".join(re.escape(part) for part in literal) + "$"


@pytest.mark.parametrize(("status", "body"), [(200, b""), (204, b""), (201, b""), (200, b"null"), (200, b" \r\n")])
@pytest.mark.parametrize("op_id", EMPTY_BODY_OPERATIONS)
def test_operations_a_server_answers_empty_return_none(
    server: CytomineTestServer, op_id: str, status: int, body: bytes
) -> None:
    op = OPERATIONS[op_id]
    server.route(op.method, _path_pattern(op), body, status=status)
    assert _call(server.client(max_retries=0), op) is None
    assert server.last.method == op.method


@pytest.mark.parametrize("op_id", EMPTY_BODY_OPERATIONS)
def test_operations_a_server_answers_empty_are_typed_optional(op_id: str) -> None:
    op = OPERATIONS[op_id]
    api = getattr(ApiClient(Configuration("http://127.0.0.1:9")), op.service)
    returned = str(inspect.signature(getattr(api, op.verb)).return_annotation)
    assert returned.endswith(" | None"), f"{op.verb} -> {returned}"


def test_the_empty_answer_operations_are_the_2026_repository_creates() -> None:
    assert EMPTY_BODY_OPERATIONS == [
        "ontology.create", "project_command.undo_repository_command", "relation_term.create",
        "relation_term.create_parent_relation", "role.create", "storage.create", "tag.create",
        "tag_association.create", "term.create", "uploaded_file.create", "user.create", "user_role.create",
    ]


def test_an_undeclared_success_status_still_parses_the_answer(server: CytomineTestServer) -> None:
    server.route("GET", "/api/project/7.json", {"id": 7, "name": "p"}, status=201)
    project = server.client(max_retries=0).project_api.retrieve(7)
    assert isinstance(project, Project)
    assert (project.id, project.name) == (7, "p")


def test_an_empty_text_answer_is_an_empty_text(server: CytomineTestServer) -> None:
    server.route("GET", "/api/app-engine/project/7/task-runs/run/logs", b"", content_type="text/plain")
    assert server.client(max_retries=0).app_engine_task_run_api.retrieve_logs(7, "run") == ""


def test_operations_without_a_declared_body_return_none(server: CytomineTestServer) -> None:
    client = server.client(max_retries=0)
    server.route("PUT", "/api/stores/s7/default", b"")
    assert client.app_engine_store_api.set_default("s7") is None
    server.route("DELETE", "/api/stores/s7", b"", status=204)
    assert client.app_engine_store_api.delete("s7") is None


DEEP = 100_000  # deeper than json can parse on every Python (3.13 parses 5000)
DEEP_BODIES = {
    "arrays": b"[" * DEEP + b"]" * DEEP,
    "objects": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "in-a-field": b'{"id":1,"name":"p","x":' + b'{"a":' * DEEP + b"[]" + b"}" * DEEP + b"}",
    "in-a-list": b"[" + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"]",
}


@pytest.mark.parametrize("body", list(DEEP_BODIES))
@pytest.mark.parametrize("kind", [k for k in DECLARED if k != "bulk"] + ["optional"])
def test_json_nested_thousands_deep_is_an_invalid_response(server: CytomineTestServer, kind: str, body: str) -> None:
    if kind == "optional":  # a model, of an operation whose answer may be empty
        call, method, path = (lambda c: c.term_api.create(Term(name="t", ontology=1))), "POST", "/api/term.json"
    else:
        call, method, path, _ = DECLARED[kind]
    server.route(method, path, DEEP_BODIES[body])
    with pytest.raises(InvalidResponseError) as info:
        call(server.client(max_retries=0))
    assert (info.value.status, info.value.method, info.value.url.partition("?")[0]) == (200, method, server.host + path)
    assert re.search("nested too deeply|recursion depth", str(info.value)), str(info.value)


@pytest.mark.parametrize("body", list(DEEP_BODIES))
def test_parsing_functions_refuse_json_nested_thousands_deep(body: str) -> None:
    raw = DEEP_BODIES[body]
    for parse in (loads, lambda r: parse_model(Project, r), lambda r: parse_model_list(Project, r)):
        with pytest.raises(NotJSONError, match="nested too deeply"):
            parse(raw)


@pytest.mark.parametrize("depth", [1000, 5000, DEEP])
def test_lenient_validation_of_a_deep_recursive_model_is_a_parse_error(depth: int) -> None:
    # An ontology tree is a model inside itself: deep data makes the validation recurse as deep.
    # Where the limit lies depends on the Python (3.13 validates a valid tree 1000 deep, 3.11 does
    # not): a model or a parse error, never a RecursionError; beyond a few thousand, always an error.
    for leaf_id in (1, "not-a-number"):  # valid, and with a field to keep aside at every level
        node: dict[str, Any] = {"id": leaf_id}
        for _ in range(depth):
            node = {"id": leaf_id, "children": [node]}
        if depth > 1000:
            with pytest.raises(NotJSONError, match="nested too deeply"):
                validate_lenient(OntologyTreeNode, node)
            continue
        try:
            tree = validate_lenient(OntologyTreeNode, node)
        except NotJSONError as exc:
            assert "nested too deeply" in str(exc)
        else:
            assert isinstance(tree, OntologyTreeNode) and tree.children


@pytest.mark.parametrize(
    ("kind", "body", "content_type"),
    [
        ("map-of-bool", b"[true, false]", "application/json"),
        ("map", b"[1, 2]", "application/json"),
        ("list-of-objects", b"7", "application/json"),
        ("object", b"<a>1</a>", "application/xml"),
    ],
)
def test_a_generic_answer_of_another_shape_is_an_invalid_response(
    server: CytomineTestServer, kind: str, body: bytes, content_type: str
) -> None:
    call, method, path, type_name = DECLARED[kind]
    server.route(method, path, body, content_type=content_type)
    with pytest.raises(InvalidResponseError) as info:
        call(server.client(max_retries=0))
    assert f"cannot parse the answer as {type_name}" in str(info.value)
    assert info.value.body_excerpt.startswith(body.decode()[:3])
