"""Spec-driven contract test: every generated operation hits the right method, path and query,
and its answer parses into the declared type.

Arguments are made from each method's signature, answers from the spec's response schema; the
server checks signatures like a 2026 core.
"""

from __future__ import annotations

import inspect
import re
import sys
import typing
from pathlib import Path
from typing import Any

import pydantic
import pytest
from cytomine_sdk import ApiClient
from pytest_httpserver import HTTPServer

from tests.conftest import CytomineTestServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))

from spec_index import Spec, SpecOperation  # noqa: E402

SPEC = Spec(ROOT / "spec" / "openapi.yaml")
OPERATIONS = SPEC.operations()
PATH_VALUE = 7


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def sample(annotation: Any, name: str) -> Any:
    """A valid argument for a parameter annotated `annotation`."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return sample(args[0], name)
    if origin is typing.Union:
        non_none = [a for a in args if a is not type(None)]
        # prefer (filename, bytes) for file parameters, else the first option
        for a in non_none:
            if typing.get_origin(a) is tuple:
                return ("sample.txt", b"sample bytes")
        return sample(non_none[0], name)
    if origin in (list, typing.List):  # noqa: UP006
        return [sample(args[0], name), sample(args[0], name)]
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return True
        if issubclass(annotation, int):
            return 3
        if issubclass(annotation, float):
            return 1.5
        if issubclass(annotation, str):
            return f"{name} value"
        if issubclass(annotation, bytes):
            return b"sample bytes"
        if issubclass(annotation, pydantic.BaseModel):
            return annotation()
    raise TypeError(f"no sample for {name}: {annotation!r}")


def query_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(query_text(v) for v in value)
    return str(value)


def expected_query_values(param: dict[str, Any], value: Any) -> list[str]:
    """The values a query parameter arrives with: repeated when exploded, comma-joined if not."""
    if isinstance(value, list) and param.get("explode", True) and param.get("style", "form") == "form":
        return [query_text(v) for v in value]
    return [query_text(value)]


def response_schema(op: SpecOperation) -> tuple[str | None, Any]:
    """(schema name, sample JSON answer) of the operation's 200 response."""
    content = op.raw["responses"]["200"].get("content", {})
    if op.bulk_of:
        return "BulkResult", {"status": 206, "data": {"success": False, "message": "partial", "errors": []}}
    json_content = content.get("application/json")
    if json_content is None:
        return None, b"\x89PNG binary"
    schema = json_content["schema"]
    if schema.get("type") == "array":
        item = schema["items"]["$ref"].rsplit("/", 1)[-1]
        return f"List[{item}]", [{"id": 1}, {"id": 2}]
    name = schema.get("$ref", "").rsplit("/", 1)[-1] or None
    if name and name.endswith("Collection"):
        return name, {"collection": [{"id": 1}, {"id": 2}], "offset": 0, "perPage": 2, "size": 2, "totalPages": 1}
    return name, {"id": 1}


@pytest.fixture
def server2026(httpserver: HTTPServer) -> CytomineTestServer:
    return CytomineTestServer(httpserver, "2026")


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_operation_contract(server2026: CytomineTestServer, op: SpecOperation) -> None:
    client: ApiClient = server2026.client(signature="2026")
    method = getattr(getattr(client, op.service), op.verb)
    params = {p["name"]: p for p in op.parameters}
    kwargs: dict[str, Any] = {}
    for name, parameter in inspect.signature(method).parameters.items():
        if name.startswith("_"):
            continue
        kwargs[name] = sample(parameter.annotation, name)
    expected_path = op.path
    for placeholder in re.findall(r"\{([^}]+)\}", op.path):
        kwargs[snake(placeholder)] = PATH_VALUE
        expected_path = expected_path.replace("{" + placeholder + "}", str(PATH_VALUE))
    schema_name, answer = response_schema(op)
    public = op.raw.get("security") == []
    server2026.route(op.method, expected_path, answer,
                     content_type="application/json" if schema_name else "image/png", public=public)

    result = method(**kwargs)

    seen = server2026.last
    assert (seen.method, seen.path) == (op.method, expected_path)
    assert public or seen.caller == server2026.public_key
    expected_query = {
        spec_name: expected_query_values(p, kwargs[snake(spec_name)])
        for spec_name, p in params.items()
        if p.get("in") == "query" and snake(spec_name) in kwargs
    }
    assert seen.query == expected_query
    if schema_name is None:
        assert result == b"\x89PNG binary"
    elif schema_name.startswith("List["):
        assert [type(r).__name__ for r in result] == [schema_name[5:-1]] * 2
    else:
        assert type(result).__name__ == schema_name
