"""The repository's stub is the testing kit's: :mod:`cytomine_sdk.testing` (one stub, not two).

This module re-exports it for the tests, benchmarks and docs importing ``tests.support.stub``,
with two defaults of its own that older tests rely on: binary routes answer a made-up slide for
any image or annotation id (``synthetic_images=True``; the kit answers 404 like the servers), and
an uploaded file is DEPLOYED at its first poll (``upload_step_seconds=0``). New tests use
``cytomine_sdk.testing`` (or its pytest fixtures) directly.

``python -m tests.support.stub`` still serves one: it is ``python -m cytomine_sdk.testing``.
"""

from __future__ import annotations

from typing import Any

from cytomine_sdk.testing._cli import main
from cytomine_sdk.testing._cytomine_stub import (  # CytomineStub is redefined below
    DEFAULT_PASSWORD,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_USERNAME,
)
from cytomine_sdk.testing._cytomine_stub import CytomineStub as _KitStub
from cytomine_sdk.testing._envelopes import (
    legacy_envelope,
    pageable_envelope,
)
from cytomine_sdk.testing._http import (
    ALL_GENERATIONS,
    Handler,
    HttpError,
    RecordedRequest,
    Request,
    Response,
    Route,
    empty_response,
    json_response,
    route,
)
from cytomine_sdk.testing._routes import (
    ROUTES,
)
from cytomine_sdk.testing._routes_users import (
    IAM_TOKEN_PATH,
    h_iam_token,
)
from cytomine_sdk.testing._shapes import (
    annotation_json,
    image_json,
    now_ms,
    project_json,
    term_json,
)
from cytomine_sdk.testing._state import (
    StubAnnotation,
    StubImage,
    StubOntology,
    StubProject,
    StubState,
    StubTerm,
    StubUser,
)

__all__ = [
    "ALL_GENERATIONS",
    "DEFAULT_PASSWORD",
    "DEFAULT_PRIVATE_KEY",
    "DEFAULT_PUBLIC_KEY",
    "DEFAULT_USERNAME",
    "IAM_TOKEN_PATH",
    "ROUTES",
    "CytomineStub",
    "Handler",
    "HttpError",
    "RecordedRequest",
    "Request",
    "Response",
    "Route",
    "StubAnnotation",
    "StubImage",
    "StubOntology",
    "StubProject",
    "StubState",
    "StubTerm",
    "StubUser",
    "annotation_json",
    "empty_response",
    "h_iam_token",
    "image_json",
    "json_response",
    "legacy_envelope",
    "main",
    "now_ms",
    "pageable_envelope",
    "project_json",
    "route",
    "term_json",
]


class CytomineStub(_KitStub):
    """:class:`cytomine_sdk.testing.CytomineStub` with the repository's defaults (see the module docstring)."""

    def __init__(self, generation: str = "2026", **options: Any) -> None:
        options.setdefault("synthetic_images", True)
        options.setdefault("upload_step_seconds", 0.0)
        super().__init__(generation, **options)


if __name__ == "__main__":
    raise SystemExit(main())
