"""update_fields: change some fields, keep the others, against the stub of every server generation.

The stub's project PUT rebuilds the project from the body as the servers do (absent flags false,
absent ontology and `created` null): what a PUT of the changes alone would lose.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.exceptions import InvalidArgumentError
from cytomine_sdk.models import Project
from cytomine_sdk.timestamps import epoch_ms
from cytomine_sdk.updates import update_fields
from tests.support.stub import ALL_GENERATIONS, CytomineStub, Request, Response, json_response, project_json


@pytest.fixture(params=sorted(ALL_GENERATIONS))
def stub(request: pytest.FixtureRequest) -> Iterator[CytomineStub]:
    with CytomineStub(request.param) as server:
        yield server


def client_of(stub: CytomineStub) -> ApiClient:
    return ApiClient(Configuration(stub.host, public_key=stub.public_key, private_key=stub.private_key))


def puts(stub: CytomineStub) -> list[Any]:
    return [r.json() for r in stub.requests if r.method == "PUT"]


def flagged_project(client: ApiClient) -> Project:
    """A project whose fields differ from what a server resets them to."""
    return client.project_api.create(Project(name="Flagged", ontology=10, blind_mode=True, is_closed=True))


def test_one_field_changes_the_others_stay(stub: CytomineStub) -> None:
    client = client_of(stub)
    before = flagged_project(client)
    after = update_fields(client.project_api, before.id or 0, name="Renamed")
    assert after.name == "Renamed"
    assert (after.ontology, after.blind_mode, after.is_closed) == (10, True, True)
    assert after.created == before.created is not None
    again = client.project_api.retrieve(before.id or 0)
    assert (again.name, again.ontology, again.blind_mode, again.created) == ("Renamed", 10, True, before.created)
    (body,) = puts(stub)  # one PUT: everything the server sent, with the change
    assert (body["name"], body["blindMode"], body["created"]) == ("Renamed", True, str(epoch_ms(before.created)))


def test_a_put_of_the_changes_alone_resets_the_others(stub: CytomineStub) -> None:
    """Why update_fields exists: servers rebuild the object from the PUT's body."""
    client = client_of(stub)
    before = flagged_project(client)
    after = client.project_api.update(before.id or 0, Project(id=before.id, name="Renamed"))
    assert (after.name, after.ontology, after.blind_mode, after.is_closed) == ("Renamed", None, False, False)
    # and a PUT of the fetched model loses what to_dict() leaves out (read-only `created`)
    fetched = client.project_api.retrieve(before.id or 0)
    assert client.project_api.update(before.id or 0, fetched).created is None


def test_a_repository_object_keeps_what_a_put_leaves_out(stub: CytomineStub) -> None:
    client = client_of(stub)
    term = update_fields(client.term_api, 20, color="#000000")
    assert (term.name, term.color) == ("Tumour", "#000000")
    assert client.term_api.retrieve(20).name == "Tumour"


def test_several_fields_and_null_where_nullable(stub: CytomineStub) -> None:
    client = client_of(stub)
    before = flagged_project(client)
    after = update_fields(client.project_api, before.id or 0, ontology=None, blind_mode=False, name="N2")
    assert (after.name, after.ontology, after.blind_mode, after.is_closed) == ("N2", None, False, True)
    assert puts(stub)[-1]["ontology"] is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nme": "x"}, "Project has no field 'nme' (did you mean name?)"),
        ({"blindMode": True}, "Project fields are named as in Python: blind_mode, not blindMode"),
        ({"number_of_images": 3}, "Project.number_of_images is read-only"),
        ({"name": "x", "java_class": "be.cytomine.Other"}, "Project.java_class is read-only"),
    ],
)
def test_refused_changes_write_nothing(changes: dict[str, Any], message: str) -> None:
    with CytomineStub("2026") as stub:
        with pytest.raises(InvalidArgumentError, match=re.escape(message)):
            update_fields(client_of(stub).project_api, 100, **changes)
        assert puts(stub) == []


def test_values_are_checked_strictly() -> None:
    with CytomineStub("2025") as stub:
        with pytest.raises(pydantic.ValidationError):
            update_fields(client_of(stub).project_api, 100, name=12)
        with pytest.raises(pydantic.ValidationError):
            update_fields(client_of(stub).project_api, 100, ontology="10")
        assert puts(stub) == []


def test_no_change_writes_nothing() -> None:
    with CytomineStub("legacy") as stub:
        project = update_fields(client_of(stub).project_api, 100)
        assert project.name == "Demo: lung biopsies" and puts(stub) == []


def test_a_field_the_spec_does_not_know_is_sent_back_and_can_change() -> None:
    def with_extra(stub: CytomineStub, req: Request) -> Response:
        return json_response({**project_json(stub, stub.state.projects[100]), "newFlag": "a", "newNull": None})

    with CytomineStub("2026") as stub:
        stub.add_route("GET", "/api/project/{id}.json", with_extra)
        client = client_of(stub)
        update_fields(client.project_api, 100, name="Renamed")
        assert puts(stub)[-1]["newFlag"] == "a" and puts(stub)[-1]["newNull"] is None
        update_fields(client.project_api, 100, newFlag="b")
        assert puts(stub)[-1]["newFlag"] == "b"
