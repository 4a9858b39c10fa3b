"""Parsing server answers into models: fast when the answer fits the spec, lenient when it drifts.

The fast path validates the raw bytes with pydantic-core (no intermediate Python dicts). If the
answer does not fit (a field of another type, a list with an odd item), the lenient path parses it
again field by field: what fits is typed, what does not is kept raw in the model's extras
(`model.model_extra`, also reachable as an attribute named like the JSON key), so a server that
drifts from the spec never makes a call fail. Only an answer that is not JSON at all is an error,
as is JSON nested deeper than Python can parse (a RecursionError would otherwise escape).

Answers of 1 MiB and more (listings) take another road to the same models, a chunk of rows at a
time with the garbage collector paused, to stay near the speed and memory of `json.loads`: see
"large answers" below.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import sys
import types
import typing
from collections.abc import Iterator
from typing import Any, TypeVar, Union

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import from_json

M = TypeVar("M", bound=BaseModel)
# Each model is re-validated at most this many times, dropping the fields that do not fit.
MAX_PASSES = 4


TOO_DEEP = "JSON nested too deeply"


class NotJSONError(ValueError):
    """The answer is not JSON (or nested too deeply to parse)."""


class EmptyAnswerError(ValueError):
    """The answer is empty where the operation declares a body."""


def loads(raw: bytes) -> Any:
    """`json.loads`, raising NotJSONError (also for JSON nested too deeply)."""
    try:
        return json.loads(raw)
    except RecursionError:
        # The C decoder recurses once per level: a few thousand `[` exhaust the stack.
        raise NotJSONError(TOO_DEEP) from None
    except ValueError as exc:
        raise NotJSONError(str(exc)) from exc


@functools.cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def parse_model(model: type[M], raw: bytes) -> M:
    """Parse a JSON object answer into `model`."""
    if len(raw) >= LARGE_ANSWER:
        with collector_paused():
            return validate_values(model, loads_large(raw))
    # The usual small answer: no `with` (a generator-based context manager costs a few us per
    # call, against ~200 us for a whole signed GET).
    try:
        return model.model_validate_json(raw, strict=False)
    except ValidationError:
        return validate_lenient(model, loads(raw))


def parse_model_list(model: type[M], raw: bytes) -> list[M]:
    """Parse a JSON array answer into a list of `model`."""
    if len(raw) >= LARGE_ANSWER:
        with collector_paused():
            return validate_value_list(model, loads_large(raw))
    try:
        return _list_adapter(model).validate_json(raw, strict=False)
    except ValidationError:
        data = loads(raw)
        if not isinstance(data, list):
            raise NotJSONError(f"expected a JSON array, got {type(data).__name__}") from None
        return [validate_lenient(model, item) for item in data]


# -- large answers --------------------------------------------------------------------------------
#
# A large answer is a listing: 100k annotation rows are 88 MB of JSON. Measured on it (bench/
# listing.py), the small-answer path (`validate_json` of the whole body) peaks at 2.1x the memory
# of `json.loads`: pydantic-core parses the whole body into its own JSON tree before validating,
# and that tree lives until the last row is built. Here the body becomes plain Python values first
# (pydantic-core's `from_json`: no decoded copy of the body, unlike `json.loads`; validating them
# then costs the same), and the rows are validated a chunk at a time, each chunk's dicts freed as
# its models are built, so the models reuse their memory (and their strings: a `str` field keeps
# the parsed string object). The result is the small path's, lenient row by row as
# `validate_lenient` makes it. Measured in bench/listing.py's client: peak 528 MB against 832 MB,
# and 389 MB for urllib3 + json.loads (of the 528, 89 MB is the body, which the caller holds).

# Answers at least this large are parsed as above, with the cyclic garbage collector paused.
LARGE_ANSWER = 1 << 20
# Rows validated per call: enough that the per-call cost vanishes (~5 us against ~1 ms), few enough
# that a chunk's dicts are still in the CPU caches when they are freed and its fields sets copied
# (measured: 256 rows a little faster than 1000 or 5000, same peak memory).
CHUNK = 256


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large answer becomes objects.

    Building 100k models allocates millions of containers, and every few hundred allocations
    start a collection that walks them all again, none of them garbage yet: measured on the
    88 MB listing, 0.75 s paused, 2.8 s not. Left as it is when already paused (by the caller, or
    by another thread's parse); restored in every case.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        _resume_collector()


def _resume_collector() -> None:
    """Turn the collector back on without walking what the parse built.

    Every container the parse allocated is young: left there, the first collection after this
    walks them all (0.35 s for the 88 MB listing, inside the call that parsed), the next older
    one again, until they reach the oldest generation, which is where long-lived data such as a
    listing ends anyway. `freeze()` then `unfreeze()` moves every tracked object to the oldest
    generation without walking it (two list splices). Garbage cycles that were young meanwhile
    wait for the next full collection instead of a young one. Not done when objects are frozen
    already (a pre-fork server's `gc.freeze()`): unfreezing would thaw them too.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
    gc.enable()


def loads_large(raw: bytes) -> Any:
    """The JSON values of a large answer; NotJSONError if it is not JSON.

    pydantic-core's parser: faster than `json.loads`, and it reads the bytes without decoding a
    copy of them first. `loads` where it refuses what `json.loads` accepts (lone surrogates in
    escapes, nesting deeper than 200), so that both paths accept the same answers.
    """
    try:
        return from_json(raw)
    except ValueError:
        return loads(raw)


def validate_values(model: type[M], data: Any) -> M:
    """`data`, the JSON values of a large answer (`loads_large`), as `model`, leniently; its lists
    of rows are validated in place a chunk at a time (`data` is consumed).

    With `loads_large`, the two steps of `parse_model` for a large answer, for a caller that can
    let go of the body in between (it is dead weight once parsed: 89 MB of the 528 MB peak of
    the 88 MB listing). Call both inside `collector_paused()`.
    """
    try:
        if isinstance(data, dict):
            for key, item_model in _model_lists(model):
                rows = data.get(key)
                if isinstance(rows, list):
                    _validate_rows(item_model, rows, keep_odd=True)
        try:
            return model.model_validate(data, strict=False)
        except ValidationError:
            return validate_lenient(model, data)
    except RecursionError:
        raise NotJSONError(TOO_DEEP) from None


def validate_value_list(model: type[M], data: Any) -> list[M]:
    """`data`, the JSON values of a large answer, as a list of `model`; see `validate_values`."""
    if not isinstance(data, list):
        raise NotJSONError(f"expected a JSON array, got {type(data).__name__}")
    try:
        _validate_rows(model, data, keep_odd=False)
    except RecursionError:
        raise NotJSONError(TOO_DEEP) from None
    return data


def _validate_rows(model: type[BaseModel], rows: list[Any], keep_odd: bool) -> None:
    """Replace the JSON objects of `rows` by `model`s in place, a chunk at a time.

    A chunk that does not validate is parsed row by row with `validate_lenient`, as the small
    path does. `keep_odd`: leave an item that is not an object as it is (a list in a field, which
    the enclosing model then keeps raw), else it is an error (a bare array of objects).
    """
    adapter = _list_adapter(model)
    shrinks: dict[int, bool] = {}
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        try:
            built = adapter.validate_python(chunk, strict=False)
            _compact_fields_sets(built, shrinks)
        except ValidationError:
            built = [validate_lenient(model, row) if isinstance(row, dict) or not keep_odd else row for row in chunk]
            _compact_fields_sets([item for item in built if isinstance(item, BaseModel)], shrinks)
        del chunk  # the chunk's dicts die as `rows` lets go of them below
        rows[start : start + CHUNK] = built


def _compact_fields_sets(items: list[BaseModel], shrinks: dict[int, bool]) -> None:
    """Give each model a right-sized copy of its set of fields set, when that is smaller.

    pydantic-core adds the fields one by one, and a set grows 4x at a time: a row of the default
    listing columns sets 19 fields, which lands in a table of 128 slots (2264 bytes), where a
    copy has 64 (1240 bytes): 100 MB of 100k rows. Same members, still a mutable set of its own.
    Whether a copy is smaller is decided once per number of members (`shrinks`), on the first
    set of that many: sets built alike have the same table, and this saves a third of the time
    (a wrong guess would only cost memory, the members are the same either way).
    """
    setattr_ = object.__setattr__
    for item in items:
        fields_set = item.__pydantic_fields_set__
        n = len(fields_set)
        shrink = shrinks.get(n)
        if shrink is None:
            shrink = shrinks[n] = sys.getsizeof(fields_set) > _copy_size(n)
        if shrink:
            setattr_(item, "__pydantic_fields_set__", set(fields_set))


@functools.cache
def _copy_size(n: int) -> int:
    """The size of a copy of a set of `n` members (a copy is sized for its members at once)."""
    return sys.getsizeof(set(set(range(n))))


@functools.cache
def _model_lists(model: type[BaseModel]) -> tuple[tuple[str, type[BaseModel]], ...]:
    """(JSON key, item model) of the fields of `model` that are exactly a list of models,
    optional or not (the `collection` of a page): the ones validated a chunk at a time."""
    found = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        args = typing.get_args(annotation)
        if typing.get_origin(annotation) in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
            annotation = next(a for a in args if a is not type(None))
        if typing.get_origin(annotation) is list and not field.metadata:
            (item,) = typing.get_args(annotation) or (None,)
            if isinstance(item, type) and issubclass(item, BaseModel):
                found.append((field.alias or name, item))
    return tuple(found)


def _model_in(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(model class, is a list) found in a field annotation such as Optional[List[Term]]."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found[0] is not None:
                return found
        return None, False
    if origin is list:
        inner, _ = _model_in(typing.get_args(annotation)[0])
        return inner, True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def validate_lenient(model: type[M], data: Any) -> M:
    """Validate `data` into `model`, keeping what does not fit raw instead of failing.

    Raises NotJSONError when `data` is nested too deeply to walk (recursive models, such as
    ontology trees, are validated level by level).
    """
    try:
        return _validate_lenient(model, data)
    except RecursionError:
        raise NotJSONError(TOO_DEEP) from None


def _validate_lenient(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        return model.model_validate(data, strict=False)  # not an object: nothing to keep aside
    by_key = {(f.alias or name): f for name, f in model.model_fields.items()}
    kept = dict(data)
    raw_extras: dict[str, Any] = {}
    for _ in range(MAX_PASSES):
        try:
            result = model.model_validate(kept, strict=False)
            break
        except ValidationError as exc:
            bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
            if not bad:
                raise
            for key in bad:
                value = kept.pop(key, None)
                field = by_key.get(key)
                nested, is_list = _model_in(field.annotation) if field else (None, False)
                if nested is not None and key not in raw_extras:
                    # Parse nested objects leniently too rather than dropping them whole.
                    if is_list and isinstance(value, list):
                        kept[key] = [_validate_lenient(nested, v) if isinstance(v, dict) else v for v in value]
                    elif not is_list and isinstance(value, dict):
                        kept[key] = _validate_lenient(nested, value)
                raw_extras[key] = value
    else:
        result = model.model_validate({k: v for k, v in kept.items() if k not in by_key}, strict=False)
    extras = result.__pydantic_extra__
    for key, value in raw_extras.items():
        if key not in kept and extras is not None:
            extras[key] = value
    return result
