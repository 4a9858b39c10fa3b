"""Read spec/openapi.yaml with its $refs into other files, and list its operations.

Shared by the generator (render_api.py writes the operation table and the API classes of sdk/
from it) and by the spec tests, so both see the spec the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class SpecOperation:
    """One operation of the spec, with the Cytomine extensions the SDK relies on."""

    operation_id: str
    tag: str
    method: str
    path: str
    servers: tuple[str, ...]
    paging: str | None
    command_key: str | None
    bulk_of: str | None
    # x-cytomine-empty-body: a server may answer the declared success body empty (returns None).
    empty_body: bool
    raw: dict[str, Any]
    path_item: dict[str, Any]
    parameters: tuple[dict[str, Any], ...]
    source: Path

    @property
    def service(self) -> str:
        """Attribute of the API client that holds this operation (e.g. `project_api`)."""
        return f"{self.tag}_api"

    @property
    def verb(self) -> str:
        """Method name on the service (e.g. `list_by_user`)."""
        return self.operation_id.partition(".")[2]


class Spec:
    """A spec split over several YAML files, loaded lazily and dereferenced on demand."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._files: dict[Path, Any] = {}

    def load(self, file: Path) -> Any:
        file = file.resolve()
        if file not in self._files:
            with open(file, encoding="utf-8") as fh:
                self._files[file] = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return self._files[file]

    def deref(self, node: Any, base: Path) -> tuple[Any, Path]:
        """Follow a chain of $ref (local or into another file) to a plain node."""
        for _ in range(64):
            if not (isinstance(node, dict) and "$ref" in node):
                return node, base
            file_part, _, pointer = str(node["$ref"]).partition("#")
            target = (base.parent / file_part).resolve() if file_part else base
            doc = self.load(target)
            for token in filter(None, pointer.split("/")):
                doc = doc[token.replace("~1", "/").replace("~0", "~")]
            node, base = doc, target
        raise ValueError(f"$ref chain too long at {base}")

    @property
    def document(self) -> dict[str, Any]:
        doc = self.load(self.root)
        assert isinstance(doc, dict)
        return doc

    def operations(self) -> list[SpecOperation]:
        ops: list[SpecOperation] = []
        for path, item in (self.document.get("paths") or {}).items():
            item, base = self.deref(item, self.root)
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                op, op_base = self.deref(item[method], base)
                tag = str((op.get("tags") or [""])[0])
                params = [self.deref(p, base)[0] for p in item.get("parameters", [])]
                params += [self.deref(p, op_base)[0] for p in op.get("parameters", [])]
                common = dict(
                    tag=tag,
                    method=method.upper(),
                    path=str(path),
                    servers=tuple(str(s) for s in op.get("x-cytomine-servers") or ()),
                    raw=op,
                    path_item=item,
                    parameters=tuple(params),
                    source=op_base,
                )
                ops.append(
                    SpecOperation(
                        operation_id=str(op.get("operationId", "")),
                        paging=op.get("x-cytomine-paging"),
                        command_key=op.get("x-cytomine-command-key"),
                        bulk_of=None,
                        empty_body=op.get("x-cytomine-empty-body") is True,
                        **common,
                    )
                )
                if bulk := op.get("x-cytomine-bulk"):
                    # The array form of the same request (see generator/preprocess.py); it may be
                    # served by fewer generations than the single form (`servers`).
                    bulk_servers = bulk.get("servers")
                    ops.append(
                        SpecOperation(
                            operation_id=f"{tag}.{bulk['verb']}",
                            paging=None,
                            command_key=None,
                            bulk_of=str(op.get("operationId", "")),
                            empty_body=False,  # BulkResult is always answered
                            **{
                                **common,
                                "servers": tuple(str(s) for s in bulk_servers) if bulk_servers else common["servers"],
                            },
                        )
                    )
        return ops
