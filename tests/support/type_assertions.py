"""What type checkers see of the public API: checked by `make typecheck-docs` (mypy --strict, pyright).

Never run (nothing calls these functions); `assert_type` fails the type check when a checker sees
another type, an Any included. tests/test_typing.py checks the same at run time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from typing_extensions import assert_type

from cytomine_sdk import ApiClient, Configuration, Page, models, pages, paginate
from cytomine_sdk_gen.api.project_api import ProjectApi
from cytomine_sdk_gen.runtime import Listing, RawResponse, StreamedResponse


def services(api_client: ApiClient) -> None:
    """Service attributes, methods, arguments and answers are typed."""
    assert_type(api_client.project_api, ProjectApi)
    assert_type(api_client.project_api.retrieve(42), models.Project)
    assert_type(api_client.project_api.list(max=10, offset=0), Listing[models.Project])
    assert_type(api_client.annotation_api.list(project=1), Listing[models.AnnotationListing])
    for project in api_client.project_api.list():
        assert_type(project, models.Project)  # iterating any list operation gives its items
    assert_type(api_client.project_api.list()[0], models.Project)
    assert_type(api_client.project_api.create(models.Project(name="p")), models.Project)
    assert_type(api_client.term_api.create(models.Term(name="t")), models.Term | None)  # 2026 may answer empty
    assert_type(api_client.image_instance_api.download_window(7, 0, 0, 512, 512, "png"), bytes)
    assert_type(api_client.project_api.delete(42), models.Project | None)
    assert_type(api_client.project_api.with_raw_response.retrieve(42), RawResponse[models.Project])
    assert_type(api_client.project_api.with_raw_response.retrieve(42).parse(), models.Project)
    assert_type(api_client.project_api.with_streaming_response.retrieve(42), StreamedResponse)
    assert_type(api_client.with_options(max_retries=0).project_api.retrieve(42), models.Project)
    # A free-form JSON answer is `object`, to narrow, not Any.
    assert_type(api_client.app_engine_task_run_api.set_input(1, "run", "p", models.AppEngineProvision()), object)


def pagination(api_client: ApiClient) -> None:
    """Paging helpers keep the item type of the listing."""
    for annotation in paginate(api_client.annotation_api.list, project=1):
        assert_type(annotation, models.AnnotationListing)
    for page in pages(api_client.term_api.list_by_ontology, 10, page_size=2):
        assert_type(page, Page[models.Term])


def model_names() -> None:
    """Models are built with the Python names of their fields (the JSON keeps the server's)."""
    project = models.Project(name="x", is_restricted=True, blind_mode=False, java_class="Project")
    assert_type(project.is_restricted, bool | None)
    assert_type(project.created, datetime | None)
    assert_type(models.Project.from_dict({"isRestricted": True}), models.Project | None)
    assert_type(project.to_dict(), dict[str, Any])
    assert_type(Configuration(host="https://cytomine.example.org", token="t").host, str)

