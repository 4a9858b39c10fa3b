"""Large answers (listings of 100k rows) take their own parsing path (cytomine_sdk.parsing): the
same models as the small-answer path, drift included, with the garbage collector left as found."""

from __future__ import annotations

import gc
import json
import random
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from bench.listing import listing_row
from cytomine_sdk.models import AnnotationListing, AnnotationListingCollection, Term
from cytomine_sdk.parsing import (
    LARGE_ANSWER,
    NotJSONError,
    loads,
    parse_model,
    parse_model_list,
    validate_lenient,
)


def rows(n: int, drift: bool) -> list[Any]:
    """`n` listing rows; with `drift`, some of them off the spec in every way servers drift."""
    rng = random.Random(7)
    out: list[Any] = [listing_row(i, rng) for i in range(n)]
    if drift:
        out[3]["id"] = "not-a-number"  # a field that does not fit: kept raw in the extras
        out[5]["newColumn"] = {"a": [1, 2]}  # unknown: kept in the extras
        out[7]["userByTerm"] = [{"id": 1, "term": "x", "user": [17]}, 5]  # a nested row half wrong
        out[9]["created"] = "1718000000000"  # coerced
        out[n - 1]["term"] = "17"  # the last row of the last chunk
    return out


def envelope(items: list[Any]) -> bytes:
    page = {"collection": items, "offset": 0, "perPage": len(items), "size": len(items), "totalPages": 1}
    return json.dumps(page).encode()


def small_path(model: type[BaseModel], raw: bytes) -> Any:
    """What the small-answer path makes of `raw`: the reference for the large path."""
    try:
        return model.model_validate_json(raw, strict=False)
    except ValidationError:
        return validate_lenient(model, loads(raw))


def state(model: BaseModel) -> tuple[Any, ...]:
    """Everything a model holds, nested models included."""
    return (type(model), model.model_dump(), model.model_extra, model.model_fields_set,
            [state(v) for v in model.__dict__.values() if isinstance(v, BaseModel)],
            [state(x) for v in model.__dict__.values() if isinstance(v, list) for x in v if isinstance(x, BaseModel)])


@pytest.fixture
def collector() -> Iterator[None]:
    """Each test starts with the collector on and nothing frozen, and leaves it so."""
    assert gc.isenabled() and gc.get_freeze_count() == 0
    yield
    gc.enable()
    gc.unfreeze()


@pytest.mark.parametrize("drift", [False, True])
def test_a_large_page_is_parsed_as_the_small_path_parses_it(collector: None, drift: bool) -> None:
    items = rows(2000, drift)
    raw = envelope(items)
    assert len(raw) > LARGE_ANSWER
    page = parse_model(AnnotationListingCollection, raw)
    reference = small_path(AnnotationListingCollection, raw)
    assert page.collection is not None and reference.collection is not None
    assert len(page.collection) == 2000
    assert [state(m) for m in page.collection] == [state(m) for m in reference.collection]
    assert state(page) == state(reference)
    if drift:
        assert page.collection[3].model_extra == {"id": "not-a-number"}
        assert page.collection[5].newColumn == {"a": [1, 2]}  # type: ignore[attr-defined]
        assert page.collection[1999].model_extra == {"term": "17"}
    # Each row also as the small path parses it alone.
    for i in (0, 3, 5, 7, 9, 1999):
        alone = parse_model(AnnotationListing, json.dumps(items[i]).encode())
        assert state(page.collection[i]) == state(alone)


def test_a_large_bare_array_is_parsed_as_the_small_path_parses_it(collector: None) -> None:
    items = [{"id": i, "name": f"term {i}", "ontology": 1, "color": "#fff", "comment": "x" * 40} for i in range(12000)]
    items[100]["id"] = "odd"
    items[11999]["newField"] = [1]
    raw = json.dumps(items).encode()
    assert len(raw) > LARGE_ANSWER
    terms = parse_model_list(Term, raw)
    reference = [validate_lenient(Term, item) for item in items]
    assert [state(t) for t in terms] == [state(t) for t in reference]
    assert terms[100].model_extra == {"id": "odd"}


@pytest.mark.parametrize("odd", [None, 7, "text", [1]])
def test_a_row_that_is_not_an_object_keeps_the_collection_raw_as_the_small_path_does(collector: None,
                                                                                     odd: object) -> None:
    items = rows(1500, drift=True)
    items[1200] = odd
    raw = envelope(items)
    assert len(raw) > LARGE_ANSWER
    page = parse_model(AnnotationListingCollection, raw)
    reference = small_path(AnnotationListingCollection, raw)
    assert state(page) == state(reference)
    kept = (page.model_extra or {}).get("collection")
    assert page.collection is None and isinstance(kept, list) and kept[1200] == odd
    assert isinstance(kept[0], AnnotationListing)


def test_a_large_array_with_an_item_that_is_not_an_object_fails_as_the_small_path_does(collector: None) -> None:
    items: list[Any] = [{"id": i, "name": "t" * 100} for i in range(10000)]
    items[9000] = 5
    raw = json.dumps(items).encode()
    assert len(raw) > LARGE_ANSWER
    with pytest.raises(ValidationError):
        parse_model_list(Term, raw)
    with pytest.raises(ValidationError):
        [validate_lenient(Term, item) for item in items]  # the small path's lenient pass
    assert gc.isenabled()


def test_json_that_only_the_standard_parser_accepts_is_parsed(collector: None) -> None:
    # pydantic-core's parser refuses lone surrogates and nesting deeper than 200: json.loads takes over.
    items = rows(1500, drift=False)
    items[10]["name"] = "\ud800"
    items[11]["deep"] = json.loads("[" * 300 + "]" * 300)
    raw = envelope(items)
    assert len(raw) > LARGE_ANSWER
    page = parse_model(AnnotationListingCollection, raw)
    assert page.collection is not None
    assert page.collection[10].name == "\ud800"
    assert page.collection[11].deep == items[11]["deep"]  # type: ignore[attr-defined]
    assert state(page) == state(small_path(AnnotationListingCollection, raw))


@pytest.mark.parametrize("raw", [b"[" * 600_000 + b"]" * 600_000, b'{"collection": [' + b"1," * 600_000])
def test_a_large_answer_that_is_not_json_is_refused(collector: None, raw: bytes) -> None:
    assert len(raw) > LARGE_ANSWER
    with pytest.raises(NotJSONError):
        parse_model(AnnotationListingCollection, raw)
    assert gc.isenabled()


def test_rows_get_sets_of_fields_of_their_own_no_larger_than_a_copy(collector: None) -> None:
    page = parse_model(AnnotationListingCollection, envelope(rows(1500, drift=False)))
    assert page.collection is not None
    first, second = page.collection[0], page.collection[1]
    assert len(first.model_fields_set) == 19
    assert sys.getsizeof(first.model_fields_set) <= sys.getsizeof(set(first.model_fields_set))
    # Still each row's own mutable set: assigning to one row marks only that row.
    assert first.model_fields_set is not second.model_fields_set
    first.name = "x"
    assert "name" in first.model_fields_set and "name" not in second.model_fields_set
    assert "name" in first.to_str() and second.to_dict().get("name", "absent") == "absent"


def test_the_collector_is_left_as_found_and_has_nothing_young_to_walk(collector: None) -> None:
    raw = envelope(rows(1500, drift=False))
    page = parse_model(AnnotationListingCollection, raw)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    # The parse's objects were moved to the oldest generation: no young collection walks them.
    assert page.collection is not None
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert {id(page), id(page.collection[0]), id(page.collection[-1].__dict__)} <= oldest
    # Paused by the caller: stays paused.
    gc.disable()
    parse_model(AnnotationListingCollection, raw)
    assert not gc.isenabled()
    gc.enable()
    # Objects frozen by the program (a pre-fork server) stay frozen: out of every generation.
    sentinel: list[object] = []
    gc.freeze()
    parse_model(AnnotationListingCollection, raw)
    assert gc.isenabled() and gc.get_freeze_count() > 0
    assert not any(o is sentinel for o in gc.get_objects())


@pytest.mark.parametrize("drift", [False, True])
def test_a_large_listing_over_http_gives_the_models_of_the_small_path(
    collector: None, drift: bool, httpserver: Any
) -> None:
    # The list operation lets go of the body once parsed (RawAnswer.page(release=True)): the
    # rows must come out the same, drift kept, as the small path makes them.
    from cytomine_sdk import ApiClient, Configuration

    items = rows(4000, drift)
    raw = envelope(items)
    assert len(raw) > LARGE_ANSWER
    httpserver.expect_request("/api/annotation.json").respond_with_data(raw, content_type="application/json")
    api = ApiClient(Configuration(httpserver.url_for("")))
    got = list(api.annotation_api.list(max=len(items), offset=0))
    expected = small_path(AnnotationListingCollection, raw).collection
    assert [state(m) for m in got] == [state(m) for m in expected]


def test_a_large_listing_that_is_not_json_names_the_call_and_shows_its_start(
    collector: None, httpserver: Any
) -> None:
    from cytomine_sdk import ApiClient, Configuration
    from cytomine_sdk.exceptions import InvalidResponseError

    raw = b'{"collection": [' + b'{"id": 1},' * (LARGE_ANSWER // 10) + b"oops"
    httpserver.expect_request("/api/annotation.json").respond_with_data(raw, content_type="application/json")
    api = ApiClient(Configuration(httpserver.url_for("")))
    with pytest.raises(InvalidResponseError, match=r"annotation_api\.list\(\)") as info:
        api.annotation_api.list(max=10**6, offset=0)
    assert '{"collection": [{"id": 1}' in str(info.value)
