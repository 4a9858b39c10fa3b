#!/usr/bin/env python3
"""Compare the spec's query parameters with those extracted from the Spring and Grails cores' sources.

Reads spec/openapi.yaml (through generator/spec_index.py) and spec/inventory/sources/spring-*.tsv
(written by tools/extract_spring.py) and prints, per operation and Spring generation that serves
it (`x-cytomine-servers`), the query parameters the server reads that the spec lacks, those the
spec declares that the server does not read, and requiredness mismatches; then totals.

    .venv/bin/python tools/compare_spec.py            # every difference, then the totals
    .venv/bin/python tools/compare_spec.py --summary  # totals only

`compare()` is importable (a test may use it). Matching rules:
- paths are compared with placeholder names dropped (`{id}` == `{image}`);
- a parameter the server reads from "query|body" (`mergeQueryParamsAndBodyParams`) or a
  non-file `@RequestParam` of a multipart handler matches a property of the spec's request body too;
- the server's pseudo-parameter `<field>[<op>]` (generic search filters) matches every spec
  parameter named like `name[op]` and is itself never reported; `*` (a `@RequestParam Map` read
  as a whole) matches everything;
- requiredness is compared only where the extractor knows it (not for `required: null`).

The legacy Grails core (`legacy` in `x-cytomine-servers`) is compared with grails-legacy.tsv
(tools/extract_grails.py) the same way; its `.json` suffix (Grails `.$format`) also matches a spec
path ending in `.{format}`, and an "extra in spec" parameter one of the Spring generations reads is
reported as "read by the other generation only". The Spring comparison is unchanged by it.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent


class SpecOperation(Protocol):
    """What this script reads of generator/spec_index.py's SpecOperation."""

    @property
    def operation_id(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def servers(self) -> tuple[str, ...]: ...
    @property
    def bulk_of(self) -> str | None: ...
    @property
    def raw(self) -> dict[str, Any]: ...
    @property
    def parameters(self) -> tuple[dict[str, Any], ...]: ...
    @property
    def source(self) -> Path: ...


class Spec(Protocol):
    """What this script reads of generator/spec_index.py's Spec."""

    def operations(self) -> Sequence[SpecOperation]: ...
    def deref(self, node: Any, base: Path) -> tuple[Any, Path]: ...


def load_spec(root: Path) -> Spec:
    """generator/spec_index.py's Spec (imported at run time: the generator is not a package)."""
    sys.path.insert(0, str(ROOT / "generator"))
    spec: Spec = importlib.import_module("spec_index").Spec(root)
    return spec


SOURCES = ROOT / "spec" / "inventory" / "sources"
GENERATIONS = ("2026", "2025")
SPRING = GENERATIONS
LEGACY = "legacy"
ALL_GENERATIONS = (*GENERATIONS, LEGACY)
FILTERS = "<field>[<op>]"
FILTER_NAME = r"[\w.]+\[\w+\]"  # a spec parameter standing for one generic search filter

MISSING = "missing in spec"
EXTRA = "extra in spec"
EXTRA_OTHER = "extra in spec, read by the other generation only"
SPEC_OPTIONAL = "required: spec optional, server required"
SPEC_REQUIRED = "required: spec required, server optional"
NOT_SERVED = "not in the sources"


@dataclass(frozen=True)
class Difference:
    operation: str  # operationId
    method: str
    path: str
    generation: str
    kind: str
    param: str
    detail: str = ""

    def __str__(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.operation} {self.method} {self.path} [{self.generation}] {self.kind}: {self.param}{extra}"


def norm(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def norm_key(generation: str, path: str) -> str:
    """`norm`, and for the Grails file `.{format}` == `.json` (both are Grails' `.$format`)."""
    if generation == LEGACY:
        return re.sub(r"\.\{\}$", ".json", norm(path))
    return norm(path)


def source_file(generation: str) -> str:
    return "grails-legacy.tsv" if generation == LEGACY else f"spring-{generation}.tsv"


def load_sources(generation: str, folder: Path = SOURCES) -> dict[tuple[str, str], dict[str, Any]]:
    """Rows of spring-<generation>.tsv (grails-legacy.tsv for `legacy`) by (method, path without
    placeholder names), JSON decoded."""
    with open(folder / source_file(generation), encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for row in csv.DictReader(lines, delimiter="\t"):
        decoded: dict[str, Any] = dict(row)
        for column in ("query_params", "path_params", "response_detail"):
            decoded[column] = json.loads(row[column])
        decoded["body"] = json.loads(row["body"]) if row["body"] != "-" else None
        rows[(row["method"], norm_key(generation, row["path"]))] = decoded
    return rows


def schema_properties(spec: Spec, node: Any, base: Path, depth: int = 0) -> set[str]:
    """Property names of a schema, through $ref, allOf/oneOf/anyOf and array items."""
    node, base = spec.deref(node, base)
    if not isinstance(node, dict) or depth > 8:
        return set()
    names = set((node.get("properties") or {}).keys())
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in node.get(key) or []:
            names |= schema_properties(spec, sub, base, depth + 1)
    if "items" in node:
        names |= schema_properties(spec, node["items"], base, depth + 1)
    return names


def body_properties(spec: Spec, op: SpecOperation) -> set[str]:
    body, base = spec.deref(op.raw.get("requestBody") or {}, op.source)
    names: set[str] = set()
    for media in (body.get("content") or {}).values():
        if isinstance(media, dict) and "schema" in media:
            names |= schema_properties(spec, media["schema"], base)
    return names


def compare_operation(spec: Spec, op: SpecOperation, generation: str, row: dict[str, Any] | None) -> list[Difference]:
    def diff(kind: str, param: str, detail: str = "") -> Difference:
        return Difference(op.operation_id, op.method, op.path, generation, kind, param, detail)

    if row is None:
        return [diff(NOT_SERVED, "-", "x-cytomine-servers names it, the extractor found no handler")]
    # A parameter the spec says only some generations read (x-cytomine-generations) is this
    # generation's only if named there; the deviations a test accepts are not applied here.
    spec_query = {
        str(p["name"]): p
        for p in op.parameters
        if p.get("in") == "query" and generation in p.get("x-cytomine-generations", [generation])
    }
    body = body_properties(spec, op)
    server = {str(q["name"]): q for q in row["query_params"]}
    out: list[Difference] = []
    if "*" in server:
        return out
    for name, q in server.items():
        if name == FILTERS:
            continue
        if name not in spec_query:
            in_body = name in body and (q["in"] != "query" or (row["body"] or {}).get("kind") == "multipart")
            if not in_body:
                out.append(diff(MISSING, name, f"{q['origin']} at {q['at']}"))
            continue
        declared = bool(spec_query[name].get("required", False))
        if q["required"] is True and not declared:
            out.append(diff(SPEC_OPTIONAL, name, f"at {q['at']}"))
        elif q["required"] is False and declared:
            out.append(diff(SPEC_REQUIRED, name, f"default {q['default']}" if q["default"] is not None else ""))
    for name in spec_query:
        if name in server or (FILTERS in server and re.fullmatch(FILTER_NAME, name)):
            continue
        out.append(diff(EXTRA, name))
    return out


def compare(spec: Spec, sources: dict[str, dict[tuple[str, str], dict[str, Any]]]) -> list[Difference]:
    """Differences of every spec operation served by a Spring generation of `sources`."""
    out: list[Difference] = []
    for op in spec.operations():
        if op.bulk_of is not None:
            continue
        for generation in ALL_GENERATIONS:
            if generation in op.servers and generation in sources:
                key = (op.method, norm_key(generation, op.path))
                found = compare_operation(spec, op, generation, sources[generation].get(key))
                others = [
                    sources[g].get((op.method, norm(op.path)))
                    for g in SPRING
                    if g != generation and g in sources
                ]
                elsewhere = {str(q["name"]) for row in others if row for q in row["query_params"]}

                def other_only(name: str, elsewhere: set[str] = elsewhere) -> bool:
                    return name in elsewhere or (FILTERS in elsewhere and bool(re.fullmatch(FILTER_NAME, name)))

                out += [
                    Difference(d.operation, d.method, d.path, d.generation, EXTRA_OTHER, d.param)
                    if d.kind == EXTRA and other_only(d.param)
                    else d
                    for d in found
                ]
    return out


def summarize(spec: Spec, diffs: Iterable[Difference], sources: dict[str, Any], top: int) -> list[str]:
    diffs = list(diffs)
    lines: list[str] = []
    ops = [op for op in spec.operations() if op.bulk_of is None]
    for generation in [g for g in ALL_GENERATIONS if g in sources]:
        served = [op for op in ops if generation in op.servers]
        with_diff = {d.operation for d in diffs if d.generation == generation}
        kinds = Counter(d.kind for d in diffs if d.generation == generation)
        lines.append(
            f"{source_file(generation)[:-4]}: {len(served)} spec operations served, "
            f"{len(served) - len(with_diff)} exact, "
            f"{len(with_diff)} with differences ({sum(kinds.values())} differences: "
            + ", ".join(f"{n} {k}" for k, n in kinds.most_common())
            + ")"
        )
        in_spec = {(op.method, norm_key(generation, op.path)) for op in ops}
        not_in_spec = [k for k in sources[generation] if k not in in_spec]
        lines.append(f"  extracted operations not in the spec: {len(not_in_spec)}")
    per_op = {(d.operation, d.method, d.path) for d in diffs if d.generation in SPRING}
    exact = [
        op for op in ops if {"2026", "2025"} & set(op.servers) and (op.operation_id, op.method, op.path) not in per_op
    ]
    lines.append(
        f"both generations: {len(exact)} operations exact, {len(per_op)} with differences in at least one generation"
    )
    common = Counter((d.kind, d.param) for d in diffs if d.generation in SPRING)
    lines.append(f"{top} most common differences (kind: parameter -> operations x generations):")
    lines += [f"  {n:4d}  {kind}: {param}" for (kind, param), n in common.most_common(top)]
    if LEGACY in sources:
        legacy = Counter((d.kind, d.param) for d in diffs if d.generation == LEGACY)
        lines.append(f"{top} most common differences with the Grails legacy core (kind: parameter -> operations):")
        lines += [f"  {n:4d}  {kind}: {param}" for (kind, param), n in legacy.most_common(top)]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare spec query parameters with the Spring and Grails sources.")
    parser.add_argument("--spec", type=Path, default=ROOT / "spec" / "openapi.yaml")
    parser.add_argument("--sources", type=Path, default=SOURCES)
    parser.add_argument("--summary", action="store_true", help="print the totals only")
    parser.add_argument("--top", type=int, default=20, help="how many common differences to list")
    args = parser.parse_args(argv)
    spec = load_spec(args.spec)
    sources = {g: load_sources(g, args.sources) for g in ALL_GENERATIONS if (args.sources / source_file(g)).exists()}
    diffs = compare(spec, sources)
    if not args.summary:
        for d in diffs:
            print(d)
        print()
    print("\n".join(summarize(spec, diffs, sources, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
