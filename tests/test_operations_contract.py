"""Spec-driven contract test: every generated operation hits the right method, path and query,
and its answer parses into the declared type.

Arguments are made from each operation's entry in the generated table (and must be exactly the
method's parameters), answers from the spec's response schema; the server checks signatures like
a 2026 core.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from pytest_httpserver import HTTPServer

from cytomine_sdk import ApiClient
from cytomine_sdk_gen.operations import OPERATIONS as TABLE
from tests.conftest import CytomineTestServer
from tests.support.samples import sample, sample_kind

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))

from spec_index import Spec, SpecOperation  # noqa: E402

SPEC = Spec(ROOT / "spec" / "openapi.yaml")
OPERATIONS = SPEC.operations()
BINARY = b"\x89PNG binary"


OPTIONS = {"timeout", "extra_query", "extra_headers", "extra_body"}


def snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return re.sub(r"[^a-z0-9_]+", "_", name).strip("_")


def query_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime):
        return str(int(value.timestamp() * 1000))
    if isinstance(value, list):
        return ",".join(query_text(v) for v in value)
    return str(value)


def expected_query_values(param: dict[str, Any], value: Any) -> list[str]:
    """The values a query parameter arrives with: repeated when exploded, comma-joined if not."""
    if isinstance(value, list) and param.get("explode", True) and param.get("style", "form") == "form":
        return [query_text(v) for v in value]
    return [query_text(value)]


def sample_json(schema: dict[str, Any], base: Path, depth: int = 0) -> Any:
    """A minimal JSON value fitting `schema`."""
    schema, base = SPEC.deref(schema, base)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = sample_json(part, base, depth)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type", "object")
    if kind == "array":
        return [sample_json(schema.get("items", {}), base, depth + 1) for _ in range(2)]
    if kind == "object":
        props = schema.get("properties", {})
        out: dict[str, Any] = {"id": 1} if "id" in props else {}
        if "collection" in props and depth < 3:
            out["collection"] = sample_json(props["collection"], base, depth + 1)
            out.update({"offset": 0, "perPage": 2, "size": 2, "totalPages": 1})
        return out
    return {"integer": 1, "number": 1.5, "boolean": True}.get(kind, "text")


def untyped(schema: dict[str, Any], base: Path) -> bool:
    """A named schema without a type (an answer of varying shape): the SDK returns the raw JSON."""
    target, _ = SPEC.deref(schema, base)
    return not {"type", "properties", "allOf", "oneOf", "anyOf", "enum"} & set(target)


def response_of(op: SpecOperation) -> tuple[str, Any, str | None]:
    """(content type, sample answer, expected result type name) of the operation's 200 answer."""
    if op.bulk_of:
        return "application/json", {"status": 206, "data": {"success": False, "errors": []}}, "BulkResult"
    responses = op.raw["responses"]
    ok = responses.get("200") or next(v for k, v in responses.items() if k.startswith("2"))
    if not ok.get("content"):  # no body (200 empty, 204)
        return "application/json", None, None
    content = ok["content"]
    content_type, media = next(iter(content.items()))
    if "json" not in content_type:
        return content_type, BINARY if not content_type.startswith("text/") else "text", None
    schema = media.get("schema", {})
    ref = schema.get("$ref", "")
    items_ref = schema.get("items", {}).get("$ref", "") if schema.get("type") == "array" else ""
    name = f"List[{items_ref.rsplit('/', 1)[-1]}]" if items_ref else (ref.rsplit("/", 1)[-1] or None)
    if (ref and untyped(schema, op.source)) or (items_ref and untyped(schema["items"], op.source)):
        name = None
    answer = sample_json(schema, op.source)
    entry = TABLE[op.operation_id]
    if entry.result is not None:  # a write answers its command envelope; the method returns the object
        answer = {"message": "done", "command": 5, op.command_key: {"id": 1}}
        name = entry.result
    elif entry.item is not None and not name.startswith("List["):  # type: ignore[union-attr]
        name = "Page"  # the whole list (here one page: the test passes max/offset/page/size)
    return content_type, answer, name


@pytest.fixture
def server2026(httpserver: HTTPServer) -> CytomineTestServer:
    return CytomineTestServer(httpserver, "2026")


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_operation_contract(server2026: CytomineTestServer, op: SpecOperation) -> None:
    client: ApiClient = server2026.client(signature="2026")
    method = getattr(getattr(client, op.service), op.verb)
    entry = TABLE[op.operation_id]
    params = {p["name"]: p for p in op.parameters}
    kwargs: dict[str, Any] = {p.name: sample(p) for p in entry.params}
    if entry.body is not None:
        kwargs[entry.body.name] = sample_kind(entry.body.kind, entry.body.name)
    named = {n for n, p in inspect.signature(method).parameters.items() if p.kind != p.VAR_KEYWORD}
    flags = set(kwargs) - named  # given through **flags (the longest signatures)
    assert named - OPTIONS <= set(kwargs) and all(p.kind == "bool" for p in entry.params if p.name in flags)
    by_wire = {p.wire: p.name for p in entry.params}
    expected_path = op.path
    for placeholder in re.findall(r"\{([^}]+)\}", op.path):
        value = kwargs[by_wire[placeholder]]
        if isinstance(value, int) and not isinstance(value, bool):
            value = kwargs[by_wire[placeholder]] = 7
        elif isinstance(value, str):  # a path segment without spaces: the stub server decodes %20
            value = kwargs[by_wire[placeholder]] = value.replace(" ", "-")
        expected_path = expected_path.replace("{" + placeholder + "}", quote(str(value), safe=""))
    content_type, answer, expected_type = response_of(op)
    if answer is None:
        body = b""
    elif isinstance(answer, bytes):
        body = answer
    else:
        body = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
    server2026.route(op.method, expected_path, body, content_type=content_type, public=op.raw.get("security") == [])

    result = method(**kwargs)

    seen = server2026.last
    assert (seen.method, seen.path) == (op.method, expected_path)
    assert op.raw.get("security") == [] or seen.caller == server2026.public_key
    expected_query = {
        spec_name: expected_query_values(p, kwargs[by_wire[spec_name]])
        for spec_name, p in params.items()
        if p.get("in") == "query" and by_wire[spec_name] in kwargs
    }
    assert seen.query == expected_query
    if expected_type is None:
        assert result == answer
    elif expected_type.startswith("List["):
        item = "dict" if expected_type == "List[object]" else expected_type[5:-1]
        assert [type(r).__name__ for r in result] == [item] * 2
    else:
        assert type(result).__name__ == expected_type
    if expected_type == "Page":
        item = "dict" if entry.item == "object" else entry.item
        assert [type(r).__name__ for r in result] == [item] * len(result) and len(result) == 2
