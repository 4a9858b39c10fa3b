"""Results that behave as users expect, against the local stub of every server generation:
lists hold every item, writes return the object, the client tells whom and what it talks to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cytomine_sdk import ApiClient, Configuration, pages
from cytomine_sdk.cli import main
from cytomine_sdk.exceptions import NotFoundError
from cytomine_sdk.models import Project, Term
from cytomine_sdk.pagination import Page
from tests.support.stub import CytomineStub

ONTOLOGY = 10


@pytest.fixture(params=["2026", "2025", "legacy"])
def stub(request: pytest.FixtureRequest) -> Iterator[CytomineStub]:
    with CytomineStub(str(request.param)) as server:
        yield server


def client(stub: CytomineStub) -> ApiClient:
    return ApiClient(Configuration(stub.host, public_key=stub.public_key, private_key=stub.private_key))


def test_a_list_iterates_like_a_list(stub: CytomineStub) -> None:
    api = client(stub)
    projects = api.project_api.list()
    names = [p.name for p in projects]
    assert len(names) == len(projects) == 3 and all(names)
    assert projects[0].name == names[0] and isinstance(projects, Page)
    assert repr(projects) == "<Page 0 of project_api.list(): items 0-3 of 3>"


def test_a_list_holds_every_item_whatever_the_server_pages(stub: CytomineStub) -> None:
    api = client(stub)
    for i in range(24):  # the stub's ontology has 3 terms: 27 in all, more than a 2026 default page
        api.term_api.create(Term(name=f"Class {i}", ontology=ONTOLOGY, color="#123456"))
    terms = api.term_api.list_by_ontology(ONTOLOGY)
    assert len(terms) == 27
    assert len({t.id for t in terms}) == 27
    small = list(pages(api.term_api.list_by_ontology, ONTOLOGY, page_size=5))
    assert [len(p.items) for p in small] == [5, 5, 5, 5, 5, 2]
    assert sum(1 for _ in small[0]) == 27  # a page iterates on to the end of the list


def test_an_explicit_page_is_exactly_that_page(stub: CytomineStub) -> None:
    api = client(stub)
    page = api.project_api.list(max=2, offset=0)
    assert len(page) == 2 == len(list(page)) and not page.has_next_page()


def test_writes_return_the_object(stub: CytomineStub) -> None:
    api = client(stub)
    created = api.project_api.create(Project(name="Writes", ontology=ONTOLOGY))
    assert isinstance(created, Project) and created.id is not None and created.name == "Writes"
    assert api.project_api.retrieve(created.id).name == "Writes"
    raw = api.project_api.with_raw_response.create(Project(name="Envelope", ontology=ONTOLOGY))
    assert b'"project"' in raw.content or b'"data"' in raw.content  # the envelope is still reachable


def test_whoami_tells_the_user_and_the_generation(stub: CytomineStub) -> None:
    api = client(stub)
    me = api.whoami()
    assert me.user.username and me.generation == stub.generation
    assert api.server_generation == stub.generation


@pytest.mark.parametrize("generation", ["2026", "2025"])  # algo_annotation.list is legacy-only
def test_an_operation_absent_from_the_generation_says_so(generation: str) -> None:
    with CytomineStub(generation) as stub:
        api = client(stub)
        api.whoami()
        with pytest.raises(NotFoundError, match=f"not served by {generation} servers"):
            api.algo_annotation_api.list()


def test_cli_whoami_and_ping(stub: CytomineStub, capsys: pytest.CaptureFixture[str]) -> None:
    keys = ["--host", stub.host, "--public_key", stub.public_key, "--private_key", stub.private_key]
    assert main(["whoami", *keys]) == 0
    assert f"a {stub.generation} server" in capsys.readouterr().out
    assert main(["ping", *keys]) == 0
    assert main(["ping", "--host", stub.host, "--public_key", stub.public_key, "--private_key", "wrong"]) == 1
    assert "refused the credentials" in capsys.readouterr().err


def test_a_host_ending_in_api_is_refused_with_the_root_url() -> None:
    with pytest.raises(ValueError, match=r"ends in /api; give the server's root URL, e\.g\. 'https://c\.example\.org'"):
        Configuration("https://c.example.org/api/", public_key="p", private_key="k")
