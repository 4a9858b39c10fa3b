"""The stub's former single module, kept importable: it re-exports what moved (see the package docstring).

The stub now lives in small modules, one concern each: :mod:`._http` (requests, responses, routes),
:mod:`._state` (the data), :mod:`._shapes` (JSON per generation), :mod:`._envelopes` (lists,
writes), :mod:`._errors`, :mod:`._params`, :mod:`._geometry`, the handlers in ``_routes_*.py``,
the table :mod:`._routes`, :mod:`._server` (HTTP), :mod:`._cytomine_stub` (:class:`CytomineStub`)
and :mod:`._cli` (``python -m cytomine_sdk.testing``). ``tests.support.stub`` and the benchmarks
import this module.
"""

from __future__ import annotations

from ._cli import main
from ._cytomine_stub import (
    DEFAULT_PASSWORD,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_REFRESH_LIFESPAN,
    DEFAULT_TOKEN_LIFESPAN,
    DEFAULT_USERNAME,
    CytomineStub,
)
from ._envelopes import legacy_envelope, pageable_envelope
from ._http import (
    ALL_GENERATIONS,
    Handler,
    HttpError,
    RecordedRequest,
    Request,
    Response,
    Route,
    empty_response,
    error_message_response,
    json_response,
    route,
)
from ._routes import ROUTES
from ._routes_users import IAM_TOKEN_PATH, h_iam_token
from ._server import _StubHTTPServer, _StubRequestHandler
from ._shapes import annotation_json, image_json, now_ms, project_json, term_json
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
    "ALL_GENERATIONS",
    "DEFAULT_PASSWORD",
    "DEFAULT_PRIVATE_KEY",
    "DEFAULT_PUBLIC_KEY",
    "DEFAULT_REFRESH_LIFESPAN",
    "DEFAULT_TOKEN_LIFESPAN",
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
    "StubAttachedFile",
    "StubImage",
    "StubOntology",
    "StubProject",
    "StubProperty",
    "StubState",
    "StubTerm",
    "StubUpload",
    "StubUser",
    "_StubHTTPServer",
    "_StubRequestHandler",
    "annotation_json",
    "empty_response",
    "error_message_response",
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

if __name__ == "__main__":
    raise SystemExit(main())
