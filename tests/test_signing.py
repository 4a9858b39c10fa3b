"""Requests signed by the SDK are accepted by an independent server-side check, per generation."""

from __future__ import annotations

import pytest

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.exceptions import AuthenticationError
from tests.conftest import TOKEN, CytomineTestServer

PROJECT = {"id": 42, "name": "Lung", "ontology": 7, "class": "be.cytomine.domain.project.Project"}
ENVELOPE = {"collection": [PROJECT], "offset": 0, "perPage": 1, "size": 1, "totalPages": 1}
COMMAND = {"message": "Project 42 added", "printMessage": True, "command": 3, "project": PROJECT}


@pytest.fixture(params=["explicit", "auto"])
def client(request: pytest.FixtureRequest, server: CytomineTestServer) -> ApiClient:
    signature = server.generation if request.param == "explicit" else "auto"
    return server.client(signature=signature)


@pytest.mark.parametrize(
    "sort",
    ["name", "name with spaces", "é→ünïcode 肺", "a&b=c+d/e?f#g%h", "comma,separated;semi"],
)
def test_get_with_query_string(server: CytomineTestServer, client: ApiClient, sort: str) -> None:
    server.route("GET", "/api/project.json", ENVELOPE)
    page = client.project_api.list(sort=sort, order="desc", max=10, offset=0, with_members_count=True)
    assert page[0].name == "Lung"
    assert server.last.caller == server.public_key
    assert server.last.query["sort"] == [sort]
    assert server.last.query["withMembersCount"] == ["true"]


def test_get_with_list_parameter(server: CytomineTestServer, client: ApiClient) -> None:
    empty = {"collection": [], "offset": 0, "perPage": 0, "size": 0, "totalPages": 0}
    server.route("GET", "/api/annotation.json", empty)
    client.annotation_api.list(project=42, terms=[1, 2, 3], users=[5], show_wkt=True, show_term=True)
    assert server.last.caller == server.public_key
    assert server.last.query["terms"] == ["1,2,3"]
    assert server.last.query["showWKT"] == ["true"]


def test_post_json(server: CytomineTestServer, client: ApiClient) -> None:
    from cytomine_sdk.models import Project

    server.route("POST", "/api/project.json", COMMAND)
    result = client.project_api.create(Project(name="Lung", ontology=7))
    assert server.last.caller == server.public_key
    assert server.last.headers["Content-Type"] == "application/json"
    assert server.last.json() == {"name": "Lung", "ontology": 7}
    assert result.id == 42


def test_put_and_delete(server: CytomineTestServer, client: ApiClient) -> None:
    from cytomine_sdk.models import Project

    server.route("PUT", "/api/project/42.json", COMMAND)
    server.route("DELETE", "/api/project/42.json", COMMAND)
    project = Project.from_dict(PROJECT)
    assert project is not None
    project.name = "Lung (renamed)"
    client.project_api.update(42, project)
    assert server.last.method == "PUT" and server.last.caller == server.public_key
    # the server finds the object by the id of the body; read-only fields are not sent
    assert server.last.json() == {"id": 42, "name": "Lung (renamed)", "ontology": 7}
    client.project_api.delete(42)
    assert server.last.method == "DELETE" and server.last.caller == server.public_key
    assert server.last.body == b""


def test_multipart_upload(server: CytomineTestServer, client: ApiClient) -> None:
    attached = {"id": 9, "filename": "notes.txt", "domainIdent": 42,
                "domainClassName": "be.cytomine.domain.project.Project"}
    server.route("POST", "/api/attachedfile.json", attached)
    result = client.attached_file_api.upload(
        files=("notes.txt", b"some bytes\x00\xff"),
        domain_ident=42,
        domain_class_name="be.cytomine.domain.project.Project",
        filename="notes.txt",
    )
    seen = server.last
    assert seen.caller == server.public_key
    assert seen.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="files[]"; filename="notes.txt"' in seen.body
    assert b"some bytes\x00\xff" in seen.body
    assert result.id == 9


def test_wrong_private_key_is_rejected(server: CytomineTestServer) -> None:
    server.route("GET", "/api/project/42.json", PROJECT)
    client = server.client(private_key="not-the-key")
    with pytest.raises(AuthenticationError) as info:
        client.project_api.retrieve(42)
    assert info.value.status == 401
    assert server.rejected >= 1
    assert "not-the-key" not in str(info.value)


def test_wrong_explicit_scheme_is_rejected(server: CytomineTestServer) -> None:
    server.route("GET", "/api/project/42.json", PROJECT)
    other = "2025" if server.generation == "2026" else "2026"
    with pytest.raises(AuthenticationError):
        server.client(signature=other).project_api.retrieve(42)
    assert server.rejected == 1  # an explicit scheme is never retried


def test_auto_remembers_the_accepted_scheme(server: CytomineTestServer) -> None:
    server.route("GET", "/api/project/42.json", PROJECT)
    client = server.client()
    client.project_api.retrieve(42)
    expected_rejections = 0 if server.generation == "2026" else 1
    assert server.rejected == expected_rejections
    assert client.generation == ("2026" if server.generation == "2026" else "2025")
    for _ in range(3):
        assert client.project_api.retrieve(42).name == "Lung"
    assert server.rejected == expected_rejections  # no further retries once known
    assert len(server.seen) == 4 + expected_rejections


def test_date_header_is_rfc1123(server: CytomineTestServer, client: ApiClient) -> None:
    from email.utils import parsedate_to_datetime

    server.route("GET", "/api/project/42.json", PROJECT)
    client.project_api.retrieve(42)
    date = server.last.headers["Date"]
    assert date.endswith(" GMT")
    assert parsedate_to_datetime(date).tzinfo is not None


@pytest.mark.parametrize("generation", ["2026", "2025"])
def test_bearer_token(server: CytomineTestServer) -> None:
    server.route("GET", "/api/project/42.json", PROJECT)
    client = ApiClient(Configuration(server.host, token=TOKEN))
    assert client.project_api.retrieve(42).id == 42
    assert server.last.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Date" not in server.last.headers or server.last.caller == "demo"


def test_host_with_base_path_is_signed_with_it(server: CytomineTestServer) -> None:
    server.route("GET", "/cytomine/api/project/42.json", PROJECT)
    client = ApiClient(Configuration(server.host + "/cytomine/", public_key=server.public_key,
                                     private_key=server.private_key, signature="auto"))
    assert client.project_api.retrieve(42).id == 42
    assert server.last.raw_target == "/cytomine/api/project/42.json"
    assert server.last.caller == server.public_key


def test_raw_send_with_characters_urllib3_encodes(server: CytomineTestServer, client: ApiClient) -> None:
    # urllib3 percent-encodes these on the request line: the signature must cover what is sent.
    server.route("GET", "/api/x y.json", PROJECT)
    resp = client.send("GET", "/api/x y.json?q=a b|c")
    assert resp.status == 200
    assert server.last.caller == server.public_key
    assert server.last.raw_target == "/api/x%20y.json?q=a%20b%7Cc"
