"""The spec against every generation's operations as read from its sources (issue 18).

spec/inventory/sources/ lists what each core's handlers read: spring-2026.tsv and spring-2025.tsv
(tools/extract_spring.py) for the Spring cores, grails-legacy.tsv (tools/extract_grails.py) for the
legacy Grails core. For every operation of those files and every spec operation served by that
generation (`x-cytomine-servers`), this compares the path parameters (types), the query parameters
(names, requiredness), the request body (its kind; for JSON the fields the handler requires or
reads) and the answer's shape (envelope, bare array, object, binary, empty). A difference fails
unless the operation declares it in `x-cytomine-deviations` with its reason; a declared deviation
that no longer occurs fails too (stale). Which generations read a spec parameter:
`x-cytomine-generations` on the parameter, else every server of the operation (under
`x-cytomine-paging: mixed`, page/size/pageSort are 2026's and max/offset/sort/order the others').
spec/README.md describes both extensions. Every operation a core maps is a spec operation it
serves, or left out with a reason (`x-cytomine-excluded`, and for the legacy core the inventory's
grails-only.tsv).

Matching rules (for parameters, the same as tools/compare_spec.py): paths compare with placeholder names dropped
(and a Grails `.json` suffix, its `.$format`, matches a spec path ending in `.{format}`);
a parameter the server reads from the query or the JSON body (`in: query|body`), or a non-file
field of a multipart handler, matches a property of the spec's request body; the pseudo-parameter
`<field>[<op>]` (generic search filters) matches spec parameters named `name[op]`; `*` (a whole
`@RequestParam Map`) matches everything; requiredness is compared where the extractor knows it.
A JSON array body matches a single-object body that has a bulk variant (`x-cytomine-bulk`); a
handler that merges the JSON body into its parameters matches a spec body; an answer branch the
extractor cannot judge (a string built by hand, an answer relayed from another server) is not
compared, and every other branch must fit the spec's answer (`SHAPE_FITS`).

    .venv/bin/python tests/test_spec_sources.py [--reasons]   # every finding and the closing figure
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))
sys.path.insert(0, str(ROOT / "tools"))
import compare_spec  # noqa: E402
import spec_index  # noqa: E402
from compare_spec import norm, norm_key, source_file  # noqa: E402

GENERATIONS = ("2026", "2025", "legacy")
ALL_GENERATIONS = GENERATIONS
FILTERS = "<field>[<op>]"
FILTER_NAME = r"[\w.]+\[\w+\]"  # a spec parameter standing for one generic search filter

# Kinds of difference, as written in x-cytomine-deviations.
NOT_IN_SPEC = "not-in-spec"  # the server reads a query parameter the spec does not offer it
NOT_READ = "not-read"  # the spec offers a query parameter this generation does not read
OPTIONAL_IN_SPEC = "optional-in-spec"  # the server requires it, the spec makes it optional
REQUIRED_IN_SPEC = "required-in-spec"  # the spec requires it, the server has it optional
PATH_PARAMETER = "path-parameter"  # a path parameter of another type
BODY = "body"  # the server reads another kind of body (parameter: json, json-array, multipart, none)
BODY_REQUIRED = "body-required"  # the server requires a JSON body field the spec makes optional
BODY_FIELD = "body-field"  # the server reads a JSON body field the spec's body lacks
RESPONSE = "response"  # the server answers another shape (parameter: its shape, e.g. list, empty)
KINDS = (NOT_IN_SPEC, NOT_READ, OPTIONAL_IN_SPEC, REQUIRED_IN_SPEC, PATH_PARAMETER, BODY, BODY_REQUIRED, BODY_FIELD,
         RESPONSE)
# Server answer shapes (the sources' `response` column) and the spec answer kinds each fits:
# `other` is JSON the handler builds (a map; a hand-made envelope or list now and then).
SHAPE_FITS = {
    "list": {"list"}, "array": {"array"}, "object": {"object"}, "message": {"object"},
    "other": {"object", "list", "array"}, "binary": {"binary", "text"}, "redirect": {"binary", "text"},
    "empty": {"empty"},
}  # fmt: skip
ENVELOPE = {"collection", "offset", "perPage", "size", "totalPages"}

# Paging parameters of common.yaml under `x-cytomine-paging: mixed` (spec/README.md).
PAGE_SIZE_REFS = ("parameters/page", "parameters/size", "parameters/pageSort")
MAX_OFFSET_REFS = ("parameters/max", "parameters/offset", "parameters/sort", "parameters/order")
JAVA_INTEGERS = {"Long", "long", "Integer", "int"}


@dataclass(frozen=True)
class Finding:
    operation: str
    method: str
    path: str
    generation: str
    kind: str
    param: str
    detail: str = ""

    def __str__(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.operation} {self.method} {self.path} [{self.generation}] {self.kind}: {self.param}{extra}"


@cache
def load_sources(generation: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Rows of the generation's sources file by (method, path key), JSON decoded (read once)."""
    return compare_spec.load_sources(generation)


@cache
def load_spec() -> spec_index.Spec:
    return spec_index.Spec(ROOT / "spec" / "openapi.yaml")


def operations() -> list[spec_index.SpecOperation]:
    return [op for op in load_spec().operations() if op.bulk_of is None]


def query_parameters(op: spec_index.SpecOperation) -> list[tuple[dict[str, Any], str]]:
    """(parameter, its $ref or "") of the operation's query parameters, path item's first."""
    spec = load_spec()
    item_base = spec.deref(load_spec().document["paths"][op.path], spec.root)[1]
    raw = [(p, item_base) for p in op.path_item.get("parameters", [])]
    raw += [(p, op.source) for p in op.raw.get("parameters", [])]
    out = []
    for node, base in raw:
        param = spec.deref(node, base)[0]
        if param.get("in") == "query":
            out.append((param, str(node.get("$ref", ""))))
    return out


def readers(op: spec_index.SpecOperation, param: dict[str, Any], ref: str) -> set[str]:
    """The generations the spec says read this parameter of this operation."""
    declared = param.get("x-cytomine-generations")
    if declared is not None:
        return {str(g) for g in declared}
    servers = set(op.servers)
    if op.paging == "mixed" and ref.startswith("../common.yaml#"):
        if ref.endswith(PAGE_SIZE_REFS):
            return servers & {"2026"}
        if ref.endswith(MAX_OFFSET_REFS):
            return servers - {"2026"}
    return servers


def schema_properties(node: Any, base: Path) -> set[str]:
    """Property names of a schema, through $ref, allOf/oneOf/anyOf and array items."""
    return compare_spec.schema_properties(load_spec(), node, base)


def spec_path_types(op: spec_index.SpecOperation) -> list[str]:
    """The schema type of each path placeholder, in order."""
    by_name = {str(p["name"]): p for p in op.parameters if p.get("in") == "path"}
    out = []
    for name in re.findall(r"\{([^}]*)\}", op.path):
        schema = load_spec().deref((by_name.get(name) or {}).get("schema") or {}, op.source)[0]
        out.append(str(schema.get("type", "?")) if name in by_name else "undeclared")
    return out


def compare(op: spec_index.SpecOperation, generation: str, row: dict[str, Any]) -> list[Finding]:
    def finding(kind: str, param: str, detail: str = "") -> Finding:
        return Finding(op.operation_id, op.method, op.path, generation, kind, param, detail)

    out: list[Finding] = []
    # Path parameters (by position): one the server binds as Long/Integer must be an integer in the
    # spec (a String one takes any value; the spec may narrow it, e.g. `{id}` of update/delete).
    server_path = {str(p["name"]): str(p["type"]) for p in row["path_params"]}
    server_names = re.findall(r"\{([^}]*)\}", row["path"])
    spec_types = spec_path_types(op)
    if generation == "legacy" and re.search(r"\.\{[^}]*\}$", op.path) and not row["path"].endswith("}"):
        spec_types = spec_types[:-1]  # the spec's `.{format}` is the `.json` of the Grails row
    for name, spec_type in zip(server_names, spec_types, strict=True):
        java = server_path.get(name)
        if java is None:
            continue  # a placeholder the handler does not bind
        if java in JAVA_INTEGERS and spec_type != "integer":
            out.append(finding(PATH_PARAMETER, name, f"spec {spec_type}, server {java}"))
    # Query parameters.
    server = {str(q["name"]): q for q in row["query_params"]}
    if "*" in server:
        return out
    spec_query = {str(p["name"]): (p, ref) for p, ref in query_parameters(op)}
    body = compare_spec.body_properties(load_spec(), op)
    for name, q in server.items():
        if name == FILTERS:
            continue
        if name in spec_query and generation in readers(op, *spec_query[name]):
            declared = bool(spec_query[name][0].get("required", False))
            if q["required"] is True and not declared:
                out.append(finding(OPTIONAL_IN_SPEC, name, f"required at {q['at']}"))
            elif q["required"] is False and declared:
                default = f", default {q['default']}" if q["default"] is not None else ""
                out.append(finding(REQUIRED_IN_SPEC, name, f"optional at {q['at']}{default}"))
            continue
        multipart = (row["body"] or {}).get("kind") == "multipart"
        if name in body and (q["in"] != "query" or multipart):
            continue
        where = " (the spec declares it for other generations)" if name in spec_query else ""
        out.append(finding(NOT_IN_SPEC, name, f"{q['origin']} at {q['at']}{where}"))
    for name, (param, ref) in spec_query.items():
        if generation not in readers(op, param, ref):
            continue
        if name in server or (FILTERS in server and re.fullmatch(FILTER_NAME, name)):
            continue
        out.append(finding(NOT_READ, name))
    return out


def spec_body(op: spec_index.SpecOperation) -> tuple[set[str], set[str], set[str]]:
    """The spec's request body: its kinds (json, json-array, multipart, raw; `none` without a
    body), the required fields and the properties of its JSON schema (an array's items)."""
    body, base = load_spec().deref(op.raw.get("requestBody") or {}, op.source)
    kinds: set[str] = set()
    required: set[str] = set()
    properties: set[str] = set()
    for ctype, media in (body.get("content") or {}).items():
        if "multipart" in ctype:
            kinds.add("multipart")
            continue
        if "json" not in ctype:
            kinds.add("raw")
            continue
        schema, where = load_spec().deref((media or {}).get("schema") or {}, base)
        kinds.add("json-array" if schema.get("type") == "array" else "json")
        if schema.get("type") == "array":
            schema, where = load_spec().deref(schema.get("items") or {}, where)
        for part in [schema, *(load_spec().deref(p, where)[0] for p in schema.get("allOf") or [])]:
            required |= set(part.get("required") or [])
        properties |= schema_properties(schema, where)
    return kinds or {"none"}, required, properties


def spec_answer_kinds(op: spec_index.SpecOperation) -> set[str]:
    """What the spec's success answer is: list (an envelope with `collection`), array, object,
    binary, text or empty (several for a union, or an object that may be a page)."""
    responses = op.raw.get("responses") or {}
    code = next((c for c in sorted(responses) if c.startswith("2")), None)
    if code is None:
        return set()
    answer, base = load_spec().deref(responses[code], op.source)
    kinds = {"empty"} if op.raw.get("x-cytomine-empty-body") else set()
    content = answer.get("content") or {}
    if not content:
        return kinds | {"empty"}
    for ctype, media in content.items():
        if "json" in ctype:
            kinds |= _schema_kinds((media or {}).get("schema") or {}, base)
        else:
            kinds.add("text" if ctype.startswith("text/plain") else "binary")
    return kinds


def _schema_kinds(node: Any, base: Path) -> set[str]:
    schema, base = load_spec().deref(node, base)
    if not isinstance(schema, dict):
        return {"object"}
    union = schema.get("oneOf") or schema.get("anyOf")
    if union:
        return {kind for sub in union for kind in _schema_kinds(sub, base)}
    if schema.get("type") == "array":
        return {"array"}
    if schema.get("type") == "string":
        return {"binary" if schema.get("format") == "binary" else "text"}
    properties = schema_properties(schema, base)
    if "collection" in properties:
        # an envelope; a schema with more fields than the envelope's also reads as one object
        return {"list", "object"} if properties - ENVELOPE else {"list"}
    return {"object"}


def compare_body(op: spec_index.SpecOperation, generation: str, row: dict[str, Any]) -> list[Finding]:
    """The server's request body against the spec's: its kind, and for JSON the fields the handler
    requires or reads (what the extractor knows of them)."""
    out: list[Finding] = []
    body = row["body"]
    server_kind = str(body["kind"]) if body else "none"
    if server_kind in ("alternatives", "raw"):
        return out  # two handlers with different bodies; a raw stream takes any content
    kinds, required, properties = spec_body(op)
    fits = server_kind in kinds
    if server_kind == "none" and kinds <= {"json"}:
        # the handler merges a JSON body into its parameters (`query|body`), or reads none
        fits = any("body" in str(q.get("in", "")) for q in row["query_params"])
    if server_kind == "json-array" and "json" in kinds and op.raw.get("x-cytomine-bulk"):
        fits = True  # one object or an array of them; the array form is the bulk variant
    if not fits:
        out.append(Finding(op.operation_id, op.method, op.path, generation, BODY, server_kind,
                           f"spec {'/'.join(sorted(kinds))}"))
        return out
    if server_kind in ("json", "json-array"):
        for field in body.get("fields") or []:
            name = str(field["name"])
            if field.get("required") is True and name not in required:
                out.append(Finding(op.operation_id, op.method, op.path, generation, BODY_REQUIRED, name,
                                   str(body.get("fields_from", ""))))
            if properties and name not in properties:
                where = f"{field.get('origin', field.get('read', ''))} at {field.get('line', field.get('at', ''))}"
                out.append(Finding(op.operation_id, op.method, op.path, generation, BODY_FIELD, name, where))
    return out


def compare_response(op: spec_index.SpecOperation, generation: str, row: dict[str, Any]) -> list[Finding]:
    """The server's answer shape against the spec's: each branch the extractor could judge must
    fit a kind the spec declares (untyped strings and relayed answers are not judged)."""
    spec_kinds = spec_answer_kinds(op)
    out = []
    for shape in dict.fromkeys(str(row["response"]).split("|")):
        kind = shape.split(":", 1)[0]
        if kind in SHAPE_FITS and spec_kinds and not SHAPE_FITS[kind] & spec_kinds:
            out.append(Finding(op.operation_id, op.method, op.path, generation, RESPONSE, kind,
                               f"server {shape}, spec {'/'.join(sorted(spec_kinds))}"))
    return out


def declarations(op: spec_index.SpecOperation) -> Iterator[tuple[str, str, str, str]]:
    """(generation, kind, parameter, reason) of the operation's x-cytomine-deviations."""
    for entry in op.raw.get("x-cytomine-deviations") or []:
        for generation in entry["generations"]:
            for param in entry["parameters"]:
                yield str(generation), str(entry["kind"]), str(param), str(entry["reason"])


@dataclass
class Result:
    findings: list[Finding]  # every difference, declared or not
    undeclared: list[Finding]
    stale: list[str]  # declared deviations that do not occur
    served: dict[str, list[str]]  # generation -> operationIds compared
    deviating: dict[str, set[str]]  # generation -> operationIds with (declared) differences


@cache
def result() -> Result:
    findings: list[Finding] = []
    undeclared: list[Finding] = []
    stale: list[str] = []
    served: dict[str, list[str]] = {g: [] for g in GENERATIONS}
    deviating: dict[str, set[str]] = {g: set() for g in GENERATIONS}
    for op in operations():
        declared = {(g, k, p) for g, k, p, _ in declarations(op)}
        found: list[Finding] = []
        for generation in GENERATIONS:
            if generation not in op.servers:
                continue
            served[generation].append(op.operation_id)
            row = load_sources(generation).get((op.method, norm_key(generation, op.path)))
            if row is None:
                found.append(Finding(op.operation_id, op.method, op.path, generation, "not-served", "-"))
                continue
            found += compare(op, generation, row)
            found += compare_body(op, generation, row)
            found += compare_response(op, generation, row)
        keys = {(f.generation, f.kind, f.param) for f in found}
        findings += found
        undeclared += [f for f in found if (f.generation, f.kind, f.param) not in declared]
        stale += [f"{op.operation_id} [{g}] {k}: {p}" for g, k, p in sorted(declared - keys)]
        for f in found:
            deviating[f.generation].add(op.operation_id)
    return Result(findings, undeclared, stale, served, deviating)


def figure() -> list[str]:
    """The closing figure: per generation, operations exact / with declared deviations."""
    res = result()
    lines = []
    for generation in GENERATIONS:
        total = len(res.served[generation])
        with_dev = len(res.deviating[generation])
        count = sum(1 for f in res.findings if f.generation == generation)
        lines.append(
            f"{source_file(generation)[:-4]}: {total} operations, {total - with_dev} exact, "
            f"{with_dev} with declared deviations ({count} deviations)"
        )
    return lines


class _Summary:
    """Writes the closing figure at the end of the pytest run."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("-", "spec vs server sources (tests/test_spec_sources.py)")
        for line in figure():
            terminalreporter.write_line(line)


@pytest.fixture(scope="module", autouse=True)
def _closing_figure(request: pytest.FixtureRequest) -> None:
    manager = request.config.pluginmanager
    if not manager.has_plugin("spec-sources-summary"):
        manager.register(_Summary(), "spec-sources-summary")


def test_declarations_are_well_formed() -> None:
    problems = []
    for op in operations():
        for p, _ in query_parameters(op):
            gens = p.get("x-cytomine-generations")
            if gens is None:
                continue
            if not (isinstance(gens, list) and gens and set(map(str, gens)) <= set(ALL_GENERATIONS)):
                problems.append(f"{op.operation_id} {p['name']}: x-cytomine-generations {gens!r}")
            elif not set(map(str, gens)) & set(op.servers):
                problems.append(f"{op.operation_id} {p['name']}: read by {gens}, none of the servers {op.servers}")
        for entry in op.raw.get("x-cytomine-deviations") or []:
            ok = (
                isinstance(entry, dict)
                and set(entry) == {"kind", "generations", "parameters", "reason"}
                and entry["kind"] in KINDS
                and isinstance(entry["generations"], list)
                and entry["generations"]
                and set(map(str, entry["generations"])) <= set(GENERATIONS) & set(op.servers)
                and isinstance(entry["parameters"], list)
                and entry["parameters"]
                and isinstance(entry["reason"], str)
                and len(entry["reason"].split()) >= 4
            )
            if not ok:
                problems.append(f"{op.operation_id}: malformed x-cytomine-deviations entry {entry!r}")
    assert not problems, "\n".join(problems)


def left_out(generation: str) -> set[tuple[str, str]]:
    """(method, path) pairs the spec leaves out on purpose: `x-cytomine-excluded` (each with its
    reason) and, for the legacy core, the inventory's grails-only.tsv (the Grails-only services the
    spec does not cover, spec/inventory/inventory.md)."""
    spec = load_spec()
    out = set()
    for file in [spec.root, *sorted((ROOT / "spec" / "services").glob("*.yaml"))]:
        for entry in spec.load(file).get("x-cytomine-excluded") or []:
            out.add((str(entry["method"]), norm_key(generation, str(entry["path"]))))
    if generation == "legacy":
        with open(ROOT / "spec" / "inventory" / "grails-only.tsv", encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                # The inventory writes a query in a mapping (`.$format?name=$name`) as `.{format}name={}`.
                path = re.sub(r"\.\{\}name=", ".json?name=", norm(row["path"]))
                out.add((row["method"], norm_key(generation, path)))
    return out


@pytest.mark.parametrize("generation", GENERATIONS)
def test_every_extracted_operation_is_in_the_spec(generation: str) -> None:
    """Every (method, path) a core maps is a spec operation it serves, or left out with a reason."""
    served = {(op.method, norm_key(generation, op.path)) for op in operations() if generation in op.servers}
    excluded = left_out(generation)
    missing = [
        f"{method} {path}"
        for method, path in load_sources(generation)
        if (method, path) not in served and (method, path) not in excluded and method != "ANY"
    ]
    assert not missing, f"{source_file(generation)} maps operations the spec lacks:\n" + "\n".join(missing)


@pytest.mark.parametrize("generation", GENERATIONS)
def test_spec_matches_server_sources(generation: str) -> None:
    res = result()
    undeclared = [str(f) for f in res.undeclared if f.generation == generation]
    assert not undeclared, (
        f"{len(undeclared)} differences with {source_file(generation)} not declared in x-cytomine-deviations "
        "(fix the spec, or declare them with their reason; spec/README.md):\n" + "\n".join(undeclared)
    )


def test_no_stale_deviation() -> None:
    stale = result().stale
    assert not stale, "declared in x-cytomine-deviations but no longer found (remove them):\n" + "\n".join(stale)


def main() -> int:
    """Print every finding (`--reasons`: with the reason its declaration gives), the stale
    declarations and the figure; exit 1 when the test would fail."""
    res = result()
    reasons = {
        (op.operation_id, g, k, p): reason for op in operations() for g, k, p, reason in declarations(op)
    }
    for f in res.findings:
        reason = reasons.get((f.operation, f.generation, f.kind, f.param))
        print(f"{'declared' if reason is not None else 'UNDECLARED':10s} {f}")
        if reason is not None and "--reasons" in sys.argv:
            print(f"{'':10s}   because: {reason}")
    for s in res.stale:
        print(f"STALE      {s}")
    print("\n".join(figure()))
    return 1 if res.undeclared or res.stale else 0


if __name__ == "__main__":
    sys.exit(main())
