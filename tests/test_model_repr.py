"""repr() and str() of models show the fields that were set, and the unknown ones: no wall of `=None`."""

from __future__ import annotations

import pydantic

import cytomine_sdk_gen.models as generated
from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.models import Project, ProjectCurrentUserRoles
from cytomine_sdk_gen.model_base import CytomineModel
from tests.support.stub import CytomineStub


def test_a_server_object_shows_what_the_server_sent() -> None:
    with CytomineStub("2025") as stub:
        client = ApiClient(Configuration(stub.host, public_key=stub.public_key, private_key=stub.private_key))
        project = client.project_api.retrieve(100)
    text = repr(project)
    assert text.startswith("Project(id=100, java_class='be.cytomine.domain.project.Project', created=datetime")
    assert "name='Demo: lung biopsies'" in text and "blind_mode=False" in text
    assert "updated=None" in text  # sent as null: shown
    assert "members_count" not in text and "last_activity" not in text  # not sent: not shown
    assert str(project).startswith("id=100 java_class='be.cytomine.domain.project.Project' created=")


def test_a_built_object_shows_what_was_passed_or_assigned() -> None:
    project = Project(name="P", ontology=None)
    assert repr(project) == "Project(name='P', ontology=None)"  # an explicit None is shown: it was set
    project.blind_mode = True
    assert repr(project) == "Project(name='P', ontology=None, blind_mode=True)"
    assert str(project) == "name='P' ontology=None blind_mode=True"
    assert repr(Project()) == "Project()"


def test_unknown_and_nested_fields_are_shown() -> None:
    project = Project.from_dict({"id": 1, "newField": [1], "currentUserRoles": {"admin": True}})
    assert repr(project) == (
        "Project(id=1, current_user_roles=ProjectCurrentUserRoles(admin=True), newField=[1])"
    )
    assert project is not None and isinstance(project.current_user_roles, ProjectCurrentUserRoles)


def test_every_generated_model_has_the_repr() -> None:
    models = [getattr(generated, name) for name in generated.__all__]
    classes = [m for m in models if isinstance(m, type) and issubclass(m, pydantic.BaseModel)]
    assert len(classes) > 300
    assert all(issubclass(m, CytomineModel) for m in classes)


def test_the_rest_behaves_as_before() -> None:
    project = Project.from_dict({"id": 1, "name": "P", "class": "x", "isClosed": "true", "new": 2})
    assert project is not None
    assert project.to_dict() == {"id": 1, "name": "P", "isClosed": True, "new": 2}
    assert project.model_dump(by_alias=True, exclude_none=True) == {
        "id": 1, "class": "x", "name": "P", "isClosed": True, "new": 2,
    }
    assert project == Project.from_dict({"id": 1, "name": "P", "class": "x", "isClosed": True, "new": 2})


def test_secrets_of_a_user_never_show_in_its_repr() -> None:
    with CytomineStub("legacy") as stub:  # legacy servers send a user its own private key
        api = ApiClient(Configuration(stub.host, public_key=stub.public_key, private_key=stub.private_key))
        me = api.whoami()
        assert me.user.private_key == stub.private_key  # the data is there
        for text in (repr(me), str(me.user), repr(me.user)):
            assert stub.private_key not in text and "private_key='<redacted>'" in text
    keys = generated.ApiKeys.model_validate({"primaryKey": "pub", "secondaryKey": "s3cret"}, strict=False)
    assert "s3cret" not in repr(keys)
