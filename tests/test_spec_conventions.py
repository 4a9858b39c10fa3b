"""The spec follows spec/README.md and agrees with the endpoint inventory in spec/inventory/."""

from __future__ import annotations

import csv
import functools
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))

from spec_index import Spec, SpecOperation  # noqa: E402

# The inventory of the servers' operations, kept in the repository (spec/inventory/inventory.md).
INVENTORY = ROOT / "spec" / "inventory" / "endpoints.tsv"
GENERATIONS = {"in_current_core": "2026", "in_spring_2025": "2025", "in_grails_legacy": "legacy"}
CRUD = {"list", "retrieve", "create", "update", "delete"}
# First words of non-CRUD verbs: method names start with a verb and read as English.
VERBS = {
    "list", "retrieve", "create", "update", "delete", "add", "remove", "download", "upload", "ping",
    "count", "search", "set", "open", "close", "export", "import", "undo", "redo", "refine", "fill",
    "simplify", "correct", "define", "regenerate", "start", "stop", "run", "install", "uninstall",
    "validate", "review", "unreview", "accept", "reject", "copy", "move", "check", "find", "record",
    "clear", "lock", "unlock", "compute", "link", "unlink", "associate", "dissociate", "grant",
    "revoke", "enable", "disable", "send", "notify", "switch", "refresh", "reset", "merge", "render",
    "execute", "kill", "cancel", "resume", "publish", "describe", "load", "save", "submit", "restore",
    "sign", "invite", "change", "replace", "duplicate", "attach", "detach", "index", "summarize",
    "upsert", "batch", "mark", "show", "get", "verify", "test", "generate", "sync", "rename", "bulk",
    "extract",
}
PAGING = {"max-offset", "page-size", "mixed", "none"}

SPEC = Spec(ROOT / "spec" / "openapi.yaml")
OPERATIONS = [op for op in SPEC.operations() if op.bulk_of is None]


def norm(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


@functools.cache
def inventory() -> dict[tuple[str, str], dict[str, str]]:
    with open(INVENTORY, encoding="utf-8") as fh:
        return {(row["method"], norm(row["path"])): row for row in csv.DictReader(fh, delimiter="\t")}


def ids(op: SpecOperation) -> str:
    return op.operation_id or f"{op.method} {op.path}"


@pytest.mark.parametrize("op", OPERATIONS, ids=ids)
def test_operation_naming(op: SpecOperation) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]*", op.tag), "tags are snake_case service names"
    assert len(op.raw.get("tags", [])) == 1, "one tag per operation"
    tag, _, verb = op.operation_id.partition(".")
    assert tag == op.tag, "operationId is <tag>.<verb>"
    assert re.fullmatch(r"[a-z][a-z0-9_]*", verb)
    assert verb in CRUD or verb.split("_")[0] in VERBS, f"{verb!r} does not start with a verb"
    assert op.raw.get("summary"), "every operation has a one-line summary"


@pytest.mark.parametrize("op", OPERATIONS, ids=ids)
def test_servers_match_inventory(op: SpecOperation) -> None:
    row = inventory().get((op.method, norm(op.path)))
    assert row is not None, f"{op.method} {op.path} is not in endpoints.tsv"
    expected = tuple(gen for column, gen in GENERATIONS.items() if row[column] == "yes")
    assert op.servers == expected


@pytest.mark.parametrize("op", OPERATIONS, ids=ids)
def test_responses_and_parameters(op: SpecOperation) -> None:
    responses = op.raw["responses"]
    assert responses.get("default") == {"$ref": "../common.yaml#/components/responses/Error"}
    params = {p["name"] for p in op.parameters}
    for p in op.raw.get("parameters", []):
        if "$ref" not in p:
            assert p.get("description"), f"parameter {p['name']} has a description"
            assert "schema" in p, f"parameter {p['name']} has a type"
    if op.paging is not None:
        assert op.paging in PAGING
        if op.paging in ("max-offset", "mixed"):
            assert {"max", "offset"} <= params
        if op.paging in ("page-size", "mixed"):
            assert {"page", "size"} <= params


def _schema_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for v in node.values() for r in _schema_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _schema_refs(v)]
    return []


@pytest.mark.parametrize("op", OPERATIONS, ids=ids)
def test_listings_declare_paging(op: SpecOperation) -> None:
    ok = op.raw["responses"].get("200", {}).get("content", {}).get("application/json", {})
    ref = ok.get("schema", {}).get("$ref", "")
    if ref.endswith("Collection"):
        assert op.paging in PAGING, "envelope listings declare x-cytomine-paging"
        if op.paging == "none":  # an envelope answered whole (paged only by oddly named parameters)
            assert not {"max", "offset", "page", "size"} & {p["name"] for p in op.parameters}


@pytest.mark.parametrize("op", OPERATIONS, ids=ids)
def test_empty_body_is_declared_where_a_server_answers_empty(op: SpecOperation) -> None:
    """x-cytomine-empty-body marks exactly the 2026 repository creates (POST answering an
    HttpCommandResponse through an Optional, docs/server-facts.md section 7): elsewhere an empty answer is an error."""
    flag = op.raw.get("x-cytomine-empty-body")
    assert flag in (None, True), "x-cytomine-empty-body is `true` or absent"
    row = inventory().get((op.method, norm(op.path)))
    assert row is not None
    repository_create = op.method == "POST" and row["in_current_core"] == "yes" and "httpcmd" in row["notes"]
    assert (flag is True) == repository_create
    if flag:
        ok = next(v for k, v in op.raw["responses"].items() if k.startswith("2"))
        assert "application/json" in ok.get("content", {}), "the flag is for answers declared with a body"
        assert "empty" in op.raw.get("description", ""), "the description tells users the body may be empty"


def test_no_two_operations_share_a_method_name() -> None:
    names = Counter((op.service, op.verb) for op in SPEC.operations())
    assert [name for name, n in names.items() if n > 1] == []


def test_each_service_file_holds_one_tag_and_every_path_is_referenced() -> None:
    root_refs = {p: ref["$ref"] for p, ref in SPEC.document["paths"].items()}
    for file in sorted((ROOT / "spec" / "services").glob("*.yaml")):
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
        for path, item in doc.get("paths", {}).items():
            ref = root_refs.get(path, "")
            assert ref.startswith(f"services/{file.name}#"), f"{path} not referenced from openapi.yaml"
            for method, op in item.items():
                if isinstance(op, dict) and "operationId" in op:
                    assert op["tags"] == [file.stem], f"{method} {path} in {file.name}"


def test_exclusions_have_reasons() -> None:
    for entry in SPEC.document.get("x-cytomine-excluded") or []:
        assert entry.get("reason") and entry.get("method") and entry.get("path")


def _null_keys(node: Any, where: str) -> list[str]:
    if isinstance(node, dict):
        found = [f"{where}/{k}" for k, v in node.items() if v is None]
        return found + [n for k, v in node.items() for n in _null_keys(v, f"{where}/{k}")]
    if isinstance(node, list):
        return [n for i, v in enumerate(node) for n in _null_keys(v, f"{where}/{i}")]
    return []


def test_no_key_without_value() -> None:
    """An unquoted comma in a `{...}` flow mapping silently splits a description into a bogus key."""
    found = []
    for file in sorted((ROOT / "spec").rglob("*.yaml")):
        found += _null_keys(yaml.safe_load(file.read_text(encoding="utf-8")), file.name)
    assert found == []


def _inline_enums(node: Any, where: str) -> list[str]:
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                found += [f"{where}/{n}" for n, prop in value.items() if isinstance(prop, dict) and "enum" in prop]
            found += _inline_enums(value, f"{where}/{key}")
        return found
    if isinstance(node, list):
        return [n for i, v in enumerate(node) for n in _inline_enums(v, f"{where}/{i}")]
    return []


def test_schema_enums_are_named() -> None:
    """Named enum schemas become lenient enums; inline ones would refuse a newer server's values."""
    found = []
    for file in sorted((ROOT / "spec").rglob("*.yaml")):
        found += _inline_enums(yaml.safe_load(file.read_text(encoding="utf-8")), file.name)
    assert found == []
