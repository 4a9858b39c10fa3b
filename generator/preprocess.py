"""Pre-processing of the spec before openapi-generator sees it, applied by generate.py.

OpenAPI allows one operation per method and path, but many Cytomine POSTs take either one object
or a JSON array of them (docs/server-facts.md section 6) and answer differently. The spec declares the array
form on the single-object operation as `x-cytomine-bulk: {verb, summary}`; here each such
declaration becomes a real operation (body: array of the same schema, answer: BulkResult) on a
marker path, so that openapi-generator renders the models it uses (BulkResult). The operation
table and the methods are rendered from the spec by render_api.py, which builds the same variant
with bulk_operation().
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import yaml

BULK_MARKER = "/__cytomine_bulk__"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 10x faster
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def bulk_operation(op: dict[str, Any], tag: str) -> dict[str, Any]:
    """The array form of a single-object create operation."""
    bulk = op["x-cytomine-bulk"]
    body_schema = op["requestBody"]["content"]["application/json"]["schema"]
    clone = {k: copy.deepcopy(v) for k, v in op.items() if not k.startswith("x-cytomine-bulk")}
    clone.pop("x-cytomine-command-key", None)
    clone.pop("x-cytomine-empty-body", None)  # the array form always answers a BulkResult
    clone["operationId"] = f"{tag}.{bulk['verb']}"
    clone["summary"] = bulk["summary"]
    clone["x-cytomine-bulk-of"] = op["operationId"]
    if bulk.get("servers"):  # the array form is served by fewer generations than the single form
        clone["x-cytomine-servers"] = list(bulk["servers"])
    clone["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"type": "array", "items": body_schema}}},
    }
    clone["responses"] = {
        "200": {
            "description": "Outcome of every item: BulkResult (HTTP 200 even when items failed).",
            "content": {"application/json": {"schema": {"$ref": "../common.yaml#/components/schemas/BulkResult"}}},
        },
        "default": op["responses"]["default"],
    }
    return clone


def preprocess(spec_dir: Path, out_dir: Path) -> Path:
    """Copy spec_dir to out_dir with the bulk variants added; return the new root file."""
    shutil.copytree(spec_dir, out_dir)
    root_file = out_dir / "openapi.yaml"
    root = yaml.load(root_file.read_text(encoding="utf-8"), Loader=LOADER)
    edited: dict[Path, Any] = {}
    for path, ref in list(root["paths"].items()):
        file_part, _, _ = ref["$ref"].partition("#")
        service_file = (out_dir / file_part).resolve()
        if service_file not in edited:
            edited[service_file] = yaml.load(service_file.read_text(encoding="utf-8"), Loader=LOADER)
        doc = edited[service_file]
        item = doc["paths"][path]
        for method, op in list(item.items()):
            if not isinstance(op, dict) or "x-cytomine-bulk" not in op:
                continue
            marker_path = path + BULK_MARKER
            variant: dict[str, Any] = {method: bulk_operation(op, op["tags"][0])}
            if "parameters" in item:
                variant["parameters"] = copy.deepcopy(item["parameters"])
            doc["paths"][marker_path] = variant
            escaped = marker_path.replace("~", "~0").replace("/", "~1")
            root["paths"][marker_path] = {"$ref": f"{file_part}#/paths/{escaped}"}
    for file, doc in edited.items():
        file.write_text(yaml.dump(doc, Dumper=DUMPER, sort_keys=False, allow_unicode=True), encoding="utf-8")
    root_file.write_text(yaml.dump(root, Dumper=DUMPER, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return root_file
