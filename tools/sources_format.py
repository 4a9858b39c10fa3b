"""The row format of spec/inventory/sources/*.tsv, shared by the extractors (tools/extract_spring.py,
tools/extract_grails.py): one row per (method, path), its parameters, body and answer as JSON
columns (spec/inventory/sources/README.md describes them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COLUMNS = (
    "method",
    "path",
    "query",
    "handler",
    "source",
    "query_params",
    "path_params",
    "body",
    "response",
    "response_detail",
)


@dataclass
class QueryParam:
    name: str
    required: bool | None
    type: str
    default: str | None
    origin: str  # annotation | handler | helper:<name>
    location: str  # query | query|body | form
    at: str  # file:line where it is declared or read

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "required": self.required,
            "type": self.type,
            "default": self.default,
            "origin": self.origin,
            "in": self.location,
            "at": self.at,
        }


@dataclass
class Operation:
    method: str
    path: str
    handler: str
    sources: list[str]
    query: list[QueryParam]
    path_params: list[dict[str, Any]]
    body: dict[str, Any] | None
    response: list[str]
    response_detail: dict[str, Any]

    def row(self) -> dict[str, str]:
        def flag(q: QueryParam) -> str:
            return q.name + ("!" if q.required else "?" if q.required is None else "")

        return {
            "method": self.method,
            "path": self.path,
            "query": ",".join(flag(q) for q in self.query) or "-",
            "handler": self.handler,
            "source": ";".join(self.sources),
            "query_params": json.dumps([q.as_json() for q in self.query], separators=(",", ":")),
            "path_params": json.dumps(self.path_params, separators=(",", ":")),
            "body": json.dumps(self.body, separators=(",", ":")) if self.body else "-",
            "response": "|".join(self.response) or "unknown",
            "response_detail": json.dumps(self.response_detail, separators=(",", ":")),
        }


def write_tsv(ops: list[Operation], out: Path, header: list[str]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as fh:
        for h in header:
            fh.write(f"# {h}\n")
        fh.write("\t".join(COLUMNS) + "\n")
        for op in ops:
            row = op.row()
            fh.write("\t".join(row[c].replace("\t", " ").replace("\n", " ") for c in COLUMNS) + "\n")
