"""A local Cytomine for your tests: ``from cytomine_sdk.testing import CytomineStub``.

:class:`CytomineStub` is a small Cytomine server running in a thread of your process, on
``127.0.0.1`` and a free port, for one server generation (``"2026"``, ``"2025"`` or
``"legacy"``). It checks API-key signatures and bearer tokens as that generation does, pages and
dates like it, answers errors in its shapes, and serves projects, ontologies and terms, images
(real PNG thumbnails, windows and crops; JPEG with Pillow), annotations with their filters,
properties, attached files, uploads whose status progresses, bulk creation with per-item results,
and original-file downloads with ``Range``::

    from cytomine_sdk.testing import CytomineStub

    with CytomineStub("2025", seed=False) as stub:
        project = stub.add_project("Study")
        image = stub.add_image(project, "slide-1.svs", width=20000, height=15000)
        stub.add_annotations(image, ["POLYGON ((0 0, 100 0, 100 100, 0 0))"])
        stub.fail("GET", "/api/project/{id}.json", status=503, times=1)
        with stub.client() as api_client:
            ...  # the code under test
        assert stub.requests_to("GET", "/api/project/{id}.json")

Data can also come from a JSON or YAML fixture (``CytomineStub(fixture="data.json")``); what the
code did is in ``stub.requests`` and ``stub.state``; :meth:`CytomineStub.fail` injects faults
(status, delay, reset after N bytes, drift of the answers).

With pytest, the fixtures ``cytomine_stub`` and ``cytomine_client`` come with the package (a
pytest plugin named ``cytomine``, module ``cytomine_sdk.testing._pytest_plugin``): see docs/guide/testing.md.

Standard library only: JPEG and WebP answers need Pillow (without it a PNG of the same size is
sent, with the header ``X-Cytomine-Stub-Note``), YAML fixtures pyyaml; ``pip install
'cytomine-sdk[testing]'`` installs both. ``python -m cytomine_sdk.testing --generation 2025``
serves a stub from a shell.
"""

from __future__ import annotations

from ._auth import GENERATIONS
from ._cli import main
from ._cytomine_stub import (
    DEFAULT_PASSWORD,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_USERNAME,
    CytomineStub,
)
from ._envelopes import legacy_envelope, pageable_envelope
from ._faults import Drift, Fault
from ._http import (
    Handler,
    HttpError,
    RecordedRequest,
    Request,
    Response,
    Route,
    empty_response,
    error_message_response,
    json_response,
)
from ._routes_users import IAM_TOKEN_PATH
from ._state import (
    StubAnnotation,
    StubAttachedFile,
    StubImage,
    StubOntology,
    StubProject,
    StubProperty,
    StubState,
    StubTerm,
    StubUpload,
    StubUser,
)

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_PRIVATE_KEY",
    "DEFAULT_PUBLIC_KEY",
    "DEFAULT_USERNAME",
    "GENERATIONS",
    "IAM_TOKEN_PATH",
    "CytomineStub",
    "Drift",
    "Fault",
    "Handler",
    "HttpError",
    "RecordedRequest",
    "Request",
    "Response",
    "Route",
    "StubAnnotation",
    "StubAttachedFile",
    "StubImage",
    "StubOntology",
    "StubProject",
    "StubProperty",
    "StubState",
    "StubTerm",
    "StubUpload",
    "StubUser",
    "empty_response",
    "error_message_response",
    "json_response",
    "legacy_envelope",
    "main",
    "pageable_envelope",
]
