"""Envelopes of answers: lists (paging, sorting, generic filters) and writes (commands, bulk results).

Lists per docs/server-facts.md section 2 (the legacy ``max``/``offset`` envelope, Spring's
``Pageable`` on 2026 repository endpoints); writes per sections 6 and 7.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._http import JsonObject, Request, Response, json_response
from ._params import int_param

if TYPE_CHECKING:
    from ._cytomine_stub import CytomineStub

#: Legacy list ``max`` of 0 (or absent) means "everything": Java's Integer.MAX_VALUE.
JAVA_INT_MAX = 2**31 - 1
#: Spring Data ``Pageable`` defaults (no customisation in Cytomine core 2026).
PAGEABLE_DEFAULT_SIZE = 20
PAGEABLE_MAX_SIZE = 2000


# ---------------------------------------------------------------------------
# Lists: envelopes, sorting, generic filters (docs/server-facts.md section 2)
# ---------------------------------------------------------------------------


def legacy_envelope(items: Sequence[Any], max_: int, offset: int) -> JsonObject:
    """Legacy list envelope: ``max`` 0 = everything, ``offset`` absolute (docs/server-facts.md 2.1)."""
    total = len(items)
    page_size = max_ if max_ > 0 else JAVA_INT_MAX
    start = max(offset, 0)
    return {
        "collection": list(items[start : start + page_size]),
        "offset": offset,
        "perPage": min(page_size, total),
        "size": total,
        "totalPages": math.ceil(total / page_size),
    }


def pageable_envelope(items: Sequence[Any], page: int, size: int) -> JsonObject:
    """2026 repository envelope from Spring ``Pageable`` (docs/server-facts.md 2.2)."""
    page = max(page, 0)
    if size < 1:
        size = PAGEABLE_DEFAULT_SIZE
    size = min(size, PAGEABLE_MAX_SIZE)
    total = len(items)
    start = page * size
    return {
        "collection": list(items[start : start + size]),
        "offset": start,
        "perPage": size,
        "size": total,
        "totalPages": math.ceil(total / size),
    }


def _sort_key(value: Any) -> tuple[int, float, str]:
    if value is None:
        return (2, 0.0, "")
    if isinstance(value, bool | int | float):
        return (0, float(value), "")
    return (1, 0.0, str(value).lower())


def sort_items(items: list[JsonObject], keys: Sequence[tuple[str, bool]]) -> list[JsonObject]:
    """Stable multi-key sort of JSON rows; ``keys`` = [(field, descending)]."""
    result = list(items)
    for name, descending in reversed(keys):
        result.sort(key=lambda row: _sort_key(row.get(name)), reverse=descending)
    return result


def _spring_pageable_int(value: str | None, default: int) -> int:
    """Spring's resolver falls back to the default for unparsable values."""
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def list_response(stub: CytomineStub, req: Request, items: list[JsonObject], *, repository: bool = False) -> Response:
    """Envelope ``items`` the way this generation does for this endpoint.

    ``repository=True`` marks endpoints served by the 2026 repository service:
    there (and only on a ``"2026"`` stub) paging uses ``page``/``size``/``sort``
    and ignores ``max``/``offset``.
    """
    if repository and stub.generation == "2026":
        sort_keys = []
        for spec in req.query.get("sort", []):
            name, _, direction = spec.partition(",")
            if name:
                sort_keys.append((name, direction.strip().lower() == "desc"))
        rows = sort_items(items, sort_keys)
        page = _spring_pageable_int(req.arg("page"), 0)
        size = _spring_pageable_int(req.arg("size"), PAGEABLE_DEFAULT_SIZE)
        return json_response(pageable_envelope(rows, page, size))
    args = req.args
    rows = items
    sort = args.get("sort")
    if sort:
        rows = sort_items(rows, [(sort, args.get("order", "asc").lower() == "desc")])
    return json_response(legacy_envelope(rows, int_param(args, "max", 0), int_param(args, "offset", 0)))


_FILTER_KEY = re.compile(r"^(?P<field>[A-Za-z_][\w.]*)\[(?P<op>equals|nequals|like|ilike|lte|gte|in)\]$")


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _filter_matches(actual: Any, op: str, wanted: str) -> bool:
    if actual is None:
        text = ""
    elif isinstance(actual, bool):
        text = "true" if actual else "false"
    else:
        text = str(actual)
    if op in ("equals", "nequals"):
        equal = text == wanted
        return equal if op == "equals" else not equal
    if op in ("like", "ilike"):
        flags = re.IGNORECASE if op == "ilike" else 0
        pattern = ".*".join(re.escape(part) for part in wanted.split("*"))
        return re.fullmatch(pattern, text, flags | re.DOTALL) is not None
    if op == "in":
        return text in [part.strip() for part in wanted.split(",")]
    left, right = _as_number(actual), _as_number(wanted)
    if left is None or right is None:
        return False
    return left <= right if op == "lte" else left >= right


def apply_field_filters(
    params: Mapping[str, str], items: list[JsonObject], aliases: Mapping[str, str] | None = None
) -> list[JsonObject]:
    """Generic ``<field>[<op>]=<value>`` filters (2025/2026 ``retrieveSearchParameters``)."""
    rows = items
    for key, value in params.items():
        match = _FILTER_KEY.match(key)
        if match is None:
            continue
        name = (aliases or {}).get(match.group("field"), match.group("field"))
        op = match.group("op")
        rows = [row for row in rows if _filter_matches(row.get(name), op, value)]
    return rows


# ---------------------------------------------------------------------------
# Write responses (docs/server-facts.md sections 6 and 7)
# ---------------------------------------------------------------------------


def command_envelope(
    stub: CytomineStub,
    *,
    action: str,
    simple: str,
    key: str,
    obj: JsonObject,
    message: str,
    callback: Mapping[str, Any] | None = None,
) -> JsonObject:
    """Legacy command response: message, callback, printMessage, <key>: object, command."""
    cb: JsonObject = {"method": f"be.cytomine.{action}{simple}Command", f"{key}ID": str(obj["id"])}
    if callback:
        cb.update(callback)
    return {"message": message, "callback": cb, "printMessage": True, key: obj, "command": stub.state.new_command_id()}


def http_command_response(*, action: str, simple: str, record: JsonObject, data_type: str) -> JsonObject:
    """2026 repository write response (``HttpCommandResponse``)."""
    return {
        "printMessage": True,
        "data": {**record, "dataType": data_type},
        "commandId": str(uuid.uuid4()),
        "command": f"be.cytomine.{action}{simple}Command",
        "subCommands": [],
    }


_PAST = {"Add": "added", "Edit": "edited", "Delete": "deleted"}


class ItemError(Exception):
    """A failed item of an add/update (message goes into the error body)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def bulk_response(stub: CytomineStub, domain: str, created_ids: list[int], errors: list[JsonObject]) -> Response:
    """Answer to a POSTed JSON array (docs/server-facts.md section 6)."""
    ids = ",".join(str(i) for i in created_ids)
    data: JsonObject
    if not errors:
        data, status = {"message": f"{domain}s {ids} added"}, 200
    elif not created_ids:
        data, status = {"success": False, "message": "No entry saved", "errors": errors}, 400
    else:
        if stub.generation == "legacy":
            message = f"Only part of the entries ({domain}s {ids}) added."
        else:  # the Spring cores build the message without its end
            message = f"Only part of the entries ({domain}s {ids}"
        data, status = {"success": False, "message": message, "errors": errors}, 206
    if stub.generation == "legacy":
        return json_response(data, status)
    return json_response({"data": data, "status": status}, 200)


ItemCreator = Callable[["CytomineStub", Request, Any], Any]


def _bulk_create(stub: CytomineStub, req: Request, items: list[Any], domain: str, create: ItemCreator) -> Response:
    created: list[int] = []
    errors: list[JsonObject] = []
    for item in items:
        try:
            created.append(create(stub, req, item).id)
        except ItemError as exc:
            errors.append({"data": item, "message": exc.message})
    return bulk_response(stub, domain, created, errors)
