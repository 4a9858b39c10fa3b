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

from cytomine_sdk.testing import _stub
from cytomine_sdk.testing._stub import (
    ALL_GENERATIONS,
    DEFAULT_PASSWORD,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_USERNAME,
    IAM_TOKEN_PATH,
    ROUTES,
    Handler,
    HttpError,
    RecordedRequest,
    Request,
    Response,
    Route,
    StubAnnotation,
    StubImage,
    StubOntology,
    StubProject,
    StubState,
    StubTerm,
    StubUser,
    annotation_json,
    empty_response,
    h_iam_token,
    image_json,
    json_response,
    legacy_envelope,
    now_ms,
    pageable_envelope,
    project_json,
    route,
    term_json,
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


class CytomineStub(_stub.CytomineStub):
    """:class:`cytomine_sdk.testing.CytomineStub` with the repository's defaults (see the module docstring)."""

    def __init__(self, generation: str = "2026", **options: Any) -> None:
        options.setdefault("synthetic_images", True)
        options.setdefault("upload_step_seconds", 0.0)
        super().__init__(generation, **options)


main = _stub.main

if __name__ == "__main__":
    raise SystemExit(main())
