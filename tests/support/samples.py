"""Valid arguments for any operation, made from its entry in the generated operation table."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import cytomine_sdk_gen.models as models
from cytomine_sdk_gen.runtime import Operation, Param


def sample_kind(kind: str, name: str, enum: tuple[str, ...] | None = None) -> Any:
    """A valid argument of a table kind."""
    if kind.startswith("list[") and kind.endswith("]"):
        return [sample_kind(kind[5:-1], name, enum)] * 2
    if kind == "int":
        return 3
    if kind == "float":
        return 1.5
    if kind == "bool":
        return True
    if kind == "date-time":
        return datetime(2026, 1, 2, tzinfo=timezone.utc)
    if kind == "file":
        return ("sample.txt", b"sample bytes")
    if kind == "bytes":
        return b"sample bytes"
    if kind in ("object", "dict[str, object]") or kind.startswith("dict["):
        return {"key": "value"}
    model = getattr(models, kind, None)
    if isinstance(model, type):  # without validation: a model with required fields is valid here
        return model.model_construct()
    if enum:
        return enum[0]
    return "png" if name == "format" else f"{name} value"


def sample(param: Param) -> Any:
    return sample_kind(param.kind, param.name, param.enum)


def call(client: Any, op: Operation, **overrides: Any) -> Any:
    """Call `op` on `client` with sample arguments (by name), some replaced by `overrides`."""
    kwargs: dict[str, Any] = {p.name: sample(p) for p in op.params}
    if op.body is not None:
        kwargs[op.body.name] = sample_kind(op.body.kind, op.body.name)
    kwargs.update(overrides)
    return getattr(getattr(client, op.service), op.verb)(**kwargs)
