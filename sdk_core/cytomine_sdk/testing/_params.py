"""Values of requests: integers, flags and id lists of query parameters and JSON bodies.

An unreadable integer parameter answers 400 in the servers' shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import bad_request


def parse_int(value: str, name: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise bad_request(f"Parameter {name} must be an integer, got {value!r}") from None


def int_param(params: Mapping[str, str], name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value.strip() == "":
        return default
    return parse_int(value, name)


def flag_param(params: Mapping[str, str], name: str) -> bool:
    return params.get(name, "").strip().lower() == "true"


def id_list_param(params: Mapping[str, str], name: str) -> list[int] | None:
    """Comma-separated id list, or None if the parameter is absent/empty."""
    value = params.get(name)
    if value is None or value.strip() == "":
        return None
    return [parse_int(part, name) for part in value.split(",") if part.strip()]


def as_id_list(value: Any) -> list[int]:
    """A JSON value (int, list of ints, comma string, null) as an id list."""
    if value is None:
        return []
    if isinstance(value, bool):
        raise ValueError("not an id")
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        return [int(part) for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [int(item) for item in value]
    raise ValueError("not an id list")
