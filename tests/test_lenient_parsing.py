"""Answers that drift from the spec never crash parsing; arguments users pass stay strict."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.exceptions import InvalidArgumentError, InvalidResponseError
from cytomine_sdk.models import Project, RecordType, Term
from cytomine_sdk.parsing import parse_model
from cytomine_sdk.timestamps import aware, epoch_ms


@pytest.fixture
def client(httpserver: HTTPServer) -> ApiClient:
    return ApiClient(Configuration(httpserver.url_for(""), max_retries=0))


def answer(httpserver: HTTPServer, path: str, body: object, content_type: str = "application/json") -> None:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    httpserver.expect_request(path).respond_with_data(data, content_type=content_type)


def test_unknown_fields_are_kept(httpserver: HTTPServer, client: ApiClient) -> None:
    answer(httpserver, "/api/project/1.json", {"id": 1, "name": "P", "newField": {"a": [1, 2]}, "tags": ["x"]})
    project = client.project_api.retrieve(1)
    assert project.model_extra == {"newField": {"a": [1, 2]}, "tags": ["x"]}
    assert project.newField == {"a": [1, 2]}  # type: ignore[attr-defined]
    assert project.to_dict()["newField"] == {"a": [1, 2]}  # written back unchanged


def test_unknown_enum_value_is_kept(httpserver: HTTPServer, client: ApiClient) -> None:
    answer(httpserver, "/api/term/1.json", {"id": 1, "dataType": "TERM_V2"})
    term = client.term_api.retrieve(1)
    assert term.data_type == "TERM_V2"
    assert isinstance(term.data_type, RecordType)
    answer(httpserver, "/api/term/2.json", {"id": 2, "dataType": "TERM"})
    assert client.term_api.retrieve(2).data_type is RecordType.TERM


def test_numbers_and_strings_are_coerced(httpserver: HTTPServer, client: ApiClient) -> None:
    answer(httpserver, "/api/project/1.json",
           {"id": "1", "name": 2024, "ontology": "7", "blindMode": "true", "numberOfImages": 3.0})
    project = client.project_api.retrieve(1)
    assert (project.id, project.name, project.ontology, project.blind_mode, project.number_of_images) == (
        1, "2024", 7, True, 3)


def test_null_in_any_field(httpserver: HTTPServer, client: ApiClient) -> None:
    fields = {alias: None for alias in (f.alias or n for n, f in Project.model_fields.items())}
    answer(httpserver, "/api/project/1.json", fields)
    assert client.project_api.retrieve(1).id is None


def test_what_cannot_be_coerced_is_kept_raw(httpserver: HTTPServer, client: ApiClient) -> None:
    answer(httpserver, "/api/project.json", {
        "collection": [{"id": 1, "name": "ok"}, {"id": "not-a-number", "name": "odd", "users": [1, "x"]}],
        "offset": 0, "perPage": 2, "size": "2", "totalPages": 1,
    })
    page = client.project_api.list()
    assert len(page) == page.total == 2
    first, second = page
    assert (first.id, first.name) == (1, "ok")
    assert (second.id, second.name, second.users) == (None, "odd", None)
    assert second.model_extra == {"id": "not-a-number", "users": [1, "x"]}


@pytest.mark.parametrize(
    "value",
    ["1718000000000", 1718000000000, 1718000000000.0, "2024-06-10T06:13:20"],
)
def test_dates_in_every_encoding(httpserver: HTTPServer, client: ApiClient, value: object) -> None:
    answer(httpserver, "/api/project/1.json", {"id": 1, "created": value})
    created = client.project_api.retrieve(1).created
    assert created is not None
    assert aware(created) == datetime(2024, 6, 10, 6, 13, 20, tzinfo=timezone.utc)
    assert epoch_ms(created) == 1718000000000


def test_aware_takes_the_server_zone_for_local_dates() -> None:
    cet = timezone(timedelta(hours=1))
    assert aware(datetime(2024, 1, 1, 12), cet) == datetime(2024, 1, 1, 11, tzinfo=timezone.utc)
    assert aware(None) is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"{not json", "application/json"), (b"<html><body>Proxy error</body></html>", "text/html")],
)
def test_invalid_json_is_a_typed_error(httpserver: HTTPServer, client: ApiClient, body: bytes,
                                       content_type: str) -> None:
    answer(httpserver, "/api/project/1.json", body, content_type)
    with pytest.raises(InvalidResponseError) as info:
        client.project_api.retrieve(1)
    assert info.value.status == 200
    assert body.decode()[:8] in info.value.body_excerpt
    assert "/api/project/1.json" in str(info.value)


def test_empty_answer_is_none_only_where_servers_send_one(httpserver: HTTPServer, client: ApiClient) -> None:
    # 2026 repository creates may answer an empty body (spec: x-cytomine-empty-body)...
    httpserver.expect_request("/api/term.json", method="POST").respond_with_data(b"")
    assert client.term_api.create(Term(name="t", ontology=1)) is None
    # ...other operations declaring a model may not: None would be taken for a result.
    answer(httpserver, "/api/project/1.json", b"")
    with pytest.raises(InvalidResponseError, match="empty answer where Project was expected") as info:
        client.project_api.retrieve(1)
    assert (info.value.status, info.value.method) == (200, "GET")


def test_arguments_stay_strict(client: ApiClient) -> None:
    with pytest.raises(InvalidArgumentError, match=r"project_api\.retrieve\(\): id must be an integer"):
        client.project_api.retrieve("42")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="max"):
        client.project_api.list(max=-1)
    with pytest.raises(pydantic.ValidationError, match="name"):
        Project(name=12)  # type: ignore[arg-type]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)
PROJECT_KEYS = [f.alias or n for n, f in Project.model_fields.items()] + ["unknown"]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(PROJECT_KEYS), JSON_VALUES))
def test_any_json_object_parses(data: dict[str, object]) -> None:
    project = parse_model(Project, json.dumps(data).encode())
    assert isinstance(project, Project)
    extras = project.model_extra or {}
    for key, value in data.items():
        field = next((n for n, f in Project.model_fields.items() if (f.alias or n) == key), None)
        if field is None:
            assert extras[key] == value  # unknown: kept as is
        else:
            # known: typed, or kept raw when it does not fit
            assert getattr(project, field) is not None or value is None or extras[key] == value


def test_the_garbage_collector_is_back_on_after_a_large_parse_even_a_failed_one() -> None:
    import gc

    from cytomine_sdk.parsing import LARGE_ANSWER, NotJSONError, parse_model_list

    rows = b"[" + b",".join(b'{"id": %d, "name": "t"}' % i for i in range(LARGE_ANSWER // 20)) + b"]"
    assert len(rows) > LARGE_ANSWER and gc.isenabled()
    assert len(parse_model_list(Term, rows)) == LARGE_ANSWER // 20
    assert gc.isenabled()
    with pytest.raises(NotJSONError):
        parse_model_list(Term, rows[:-1])
    assert gc.isenabled()
