"""The stub server: state, JSON shapes, handlers, routes and the HTTP server (see the package docstring).

The stub speaks the HTTP API of one server *generation* (``"2026"``, ``"2025"``
or ``"legacy"``) on ``127.0.0.1`` with an ephemeral port, in a daemon thread.
Authentication is checked by :mod:`cytomine_sdk.testing._auth` (the servers' rule,
written independently of the SDK's signer), so a request the SDK signs wrongly gets
the same empty 401 a real server sends.  Data lives in memory (:class:`StubState`).

Routing is table-driven: :data:`ROUTES` lists :class:`Route` objects (method,
path template, handler, generations serving it, public or not).  A handler is
``handler(stub, request) -> Response``; it may raise :class:`HttpError`.

2025 and 2026 stubs also serve the IAM's token endpoint (:data:`IAM_TOKEN_PATH`,
password and refresh grants of Keycloak's realm ``cytomine``, client ``core``) and
accept the access tokens it issues as ``Authorization: Bearer`` until they expire.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import email.parser
import email.policy
import itertools
import json
import math
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, unquote

from . import _auth as server_auth
from . import _images
from ._faults import Drift, Fault

if TYPE_CHECKING:
    from cytomine_sdk.client import ApiClient
    from cytomine_sdk.configuration import Configuration

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
    "StubState",
    "empty_response",
    "json_response",
    "legacy_envelope",
    "main",
    "pageable_envelope",
    "route",
]

JsonObject = dict[str, Any]

ALL_GENERATIONS: frozenset[str] = frozenset(server_auth.GENERATIONS)
SPRING: frozenset[str] = frozenset({"2026", "2025"})
NOT_2026: frozenset[str] = frozenset({"2025", "legacy"})
ONLY_2026: frozenset[str] = frozenset({"2026"})

DEFAULT_PUBLIC_KEY = "5d2c0f7e-8a41-4f3b-9e6d-1b7a3c9e2f40"
DEFAULT_PRIVATE_KEY = "c8e14b27-63fd-4a90-b5e2-7f0d9a6c1e35"
#: The IAM login of the seeded current user ("demo"); "alice" logs in with ``alice-password``.
DEFAULT_USERNAME = "demo"
DEFAULT_PASSWORD = "demo-password-s3cret"
#: Keycloak's token endpoint, realm ``cytomine`` under ``/iam`` (docs/server-facts.md section 1.3).
IAM_TOKEN_PATH = "/iam/realms/cytomine/protocol/openid-connect/token"
#: Lifespans of the shipped realm: access tokens 300 s, refresh tokens (SSO session idle) 30 min.
DEFAULT_TOKEN_LIFESPAN = 300.0
DEFAULT_REFRESH_LIFESPAN = 1800.0

#: Versions reported by ``/server/ping`` (made up; only the shape is real).
SERVER_VERSIONS: dict[str, str] = {"2026": "2026.1.0-stub", "2025": "2025.1.0-stub", "legacy": "3.0.4-stub"}

#: Legacy list ``max`` of 0 (or absent) means "everything": Java's Integer.MAX_VALUE.
JAVA_INT_MAX = 2**31 - 1
#: Spring Data ``Pageable`` defaults (no customisation in Cytomine core 2026).
PAGEABLE_DEFAULT_SIZE = 20
PAGEABLE_MAX_SIZE = 2000

BASE_TIME_MS = 1_718_000_000_000  # 2024-06-10T06:13:20Z: seed timestamps start here

WKT_KINDS = ("POLYGON", "POINT", "LINESTRING", "MULTIPOLYGON")
BODY_PARSE_ERROR = "The body cannot be parsed, is the body content in the good format?"


# ---------------------------------------------------------------------------
# Request / response plumbing
# ---------------------------------------------------------------------------


@dataclass
class Request:
    """One request as a handler sees it."""

    method: str
    raw_target: str  # exactly as received, still percent-encoded
    path: str  # raw path (no query), not decoded
    query: dict[str, list[str]]  # decoded multi-dict
    headers: dict[str, str]  # lower-case names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # path placeholders
    user: StubUser | None = None  # authenticated caller
    _json: Any = field(default=None, repr=False)
    _json_parsed: bool = field(default=False, repr=False)

    @property
    def args(self) -> dict[str, str]:
        """Query parameters, first value of each."""
        return {name: values[0] for name, values in self.query.items() if values}

    def arg(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    def path_int(self, name: str) -> int:
        """Path placeholder ``name`` as an int."""
        return int(self.params[name])

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header ("" if absent)."""
        return self.headers.get("content-type", "")

    @property
    def json(self) -> Any:
        """The body parsed as JSON (None for an empty body); 400 if it is not JSON."""
        if not self._json_parsed:
            text = self.body.decode("utf-8", errors="replace").strip()
            try:
                self._json = json.loads(text) if text else None
            except ValueError:
                raise HttpError(error_message_response(400, BODY_PARSE_ERROR)) from None
            self._json_parsed = True
        return self._json

    def json_object(self) -> JsonObject:
        """The body as a JSON object; 400 in the servers' shape if it is not one."""
        body = self.json
        if not isinstance(body, dict):
            raise HttpError(error_message_response(400, BODY_PARSE_ERROR))
        return body


@dataclass
class Response:
    """An answer of the stub: status, body and headers (``Content-Length`` is added when sent).

    ``delay`` (seconds to wait before answering) and ``reset_after`` (bytes of the body sent
    before the connection is reset) are set by injected faults and honoured by the HTTP server.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset_after: int | None = None

    def json(self) -> Any:
        """The body parsed as JSON (None for an empty body)."""
        return json.loads(self.body) if self.body else None


class HttpError(Exception):
    """Raised by handlers to answer with ``response`` straight away."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response


@dataclass(frozen=True)
class RecordedRequest:
    """A request the stub received, for assertions in tests."""

    method: str
    raw_target: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int = 0  # status the stub answered with
    principal: str | None = None  # username of the authenticated caller
    fault: bool = False  # an injected fault (CytomineStub.fail) altered the answer

    def json(self) -> Any:
        """The request body parsed as JSON (None for an empty body)."""
        return json.loads(self.body) if self.body else None

    @property
    def args(self) -> dict[str, str]:
        """Query parameters, first value of each."""
        return {name: values[0] for name, values in self.query.items() if values}


Handler = Callable[["CytomineStub", Request], Response]


@dataclass(frozen=True)
class Route:
    """A route of the stub: ``method template`` served by ``handler`` on ``generations``."""

    method: str
    template: str
    handler: Handler
    generations: frozenset[str]
    public: bool
    pattern: re.Pattern[str]


_PLACEHOLDER = re.compile(r"\{(?P<name>[A-Za-z_]\w*)(?::(?P<kind>int|str))?\}")


def _compile_template(template: str) -> re.Pattern[str]:
    """``/api/project/{id}.json`` -> regex; ``{x}``/``{x:int}`` digits, ``{x:str}`` one segment."""
    parts: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        body = r"[^/]+" if match.group("kind") == "str" else r"\d+"
        parts.append(f"(?P<{match.group('name')}>{body})")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts))


def route(
    method: str,
    template: str,
    handler: Handler,
    *,
    generations: Iterable[str] = ALL_GENERATIONS,
    public: bool = False,
) -> Route:
    """A :class:`Route`; ``{x}``/``{x:int}`` placeholders match digits, ``{x:str}`` one segment."""
    gens = frozenset(generations)
    unknown = gens - ALL_GENERATIONS
    if unknown:
        raise ValueError(f"unknown generations {sorted(unknown)}")
    return Route(method.upper(), template, handler, gens, public, _compile_template(template))


def json_response(
    payload: Any,
    status: int = 200,
    *,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON answer."""
    all_headers = {"Content-Type": content_type}
    if headers:
        all_headers.update(headers)
    return Response(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), all_headers)


def empty_response(status: int) -> Response:
    """An answer without body (the servers' 401)."""
    return Response(status, b"", {})


def error_message_response(status: int, message: str) -> Response:
    """``{"errors":{"message":...}}`` (Spring ApiExceptionHandler / Grails responseNotFound)."""
    return json_response({"errors": {"message": message}}, status)


# ---------------------------------------------------------------------------
# Error helpers (docs/server-facts.md section 3)
# ---------------------------------------------------------------------------


def validation_error(stub: CytomineStub, message: str, status: int = 400) -> HttpError:
    """Failure inside an add/update/delete helper: ``{"success":false,"errors":"..."}``."""
    body: JsonObject = {"success": False, "errors": message}
    if stub.generation != "legacy":
        body["errorValues"] = None
    return HttpError(json_response(body, status))


def not_found(stub: CytomineStub, class_name: str, ident: int) -> HttpError:
    if stub.generation == "legacy":
        message = f"{class_name} not found with id : {ident}"
    else:
        message = f"{class_name} not found with filters : {{id={ident}}}"
    return HttpError(error_message_response(404, message))


def problem(status: int, title: str, detail: str, instance: str) -> HttpError:
    """Spring ``ProblemDetail`` (2026 repository endpoints)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": instance}
    return HttpError(json_response(body, status, content_type="application/problem+json"))


def repository_not_found(stub: CytomineStub, req: Request, class_name: str, ident: int) -> HttpError:
    """Not-found for a repository-backed domain: ProblemDetail on 2026, legacy body otherwise."""
    if stub.generation == "2026":
        return problem(404, "Not Found", f"Unable to find {class_name.lower()} with id: {ident}", req.path)
    return not_found(stub, class_name, ident)


def bad_request(message: str) -> HttpError:
    return HttpError(error_message_response(400, message))


# ---------------------------------------------------------------------------
# Small value helpers
# ---------------------------------------------------------------------------


def now_ms() -> int:
    return int(time.time() * 1000)


def epoch_string(ms: int | None) -> str | None:
    """Legacy domain JSON date: epoch milliseconds as a string."""
    return None if ms is None else str(ms)


def local_datetime(ms: int | None) -> str | None:
    """2026 repository record date: ``yyyy-MM-ddTHH:mm:ss`` (no zone, no millis)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def parse_int(value: str, name: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise bad_request(f"Parameter {name} must be an integer, got {value!r}") from None


def int_param(params: Mapping[str, str], name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value.strip() == "":
        return default
    return parse_int(value, name)


def flag_param(params: Mapping[str, str], name: str) -> bool:
    return params.get(name, "").strip().lower() == "true"


def id_list_param(params: Mapping[str, str], name: str) -> list[int] | None:
    """Comma-separated id list, or None if the parameter is absent/empty."""
    value = params.get(name)
    if value is None or value.strip() == "":
        return None
    return [parse_int(part, name) for part in value.split(",") if part.strip()]


def as_id_list(value: Any) -> list[int]:
    """A JSON value (int, list of ints, comma string, null) as an id list."""
    if value is None:
        return []
    if isinstance(value, bool):
        raise ValueError("not an id")
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        return [int(part) for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [int(item) for item in value]
    raise ValueError("not an id list")


# ---------------------------------------------------------------------------
# Geometry (just enough WKT for area/perimeter/centroid)
# ---------------------------------------------------------------------------


def wkt_is_valid(value: Any) -> bool:
    return isinstance(value, str) and value.strip().upper().startswith(WKT_KINDS)


_RING = re.compile(r"\(([^()]+)\)")


def _points(text: str) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for pair in text.split(","):
        numbers = pair.split()
        if len(numbers) >= 2:
            points.append((float(numbers[0]), float(numbers[1])))
    return points


@dataclass(frozen=True)
class GeometryMetrics:
    area: float
    perimeter: float
    centroid: tuple[float, float]


def geometry_metrics(wkt: str) -> GeometryMetrics:
    """Area, perimeter and centroid in pixels (rings of (MULTI)POLYGON, LINESTRING, POINT)."""
    kind = wkt.strip().upper()
    rings = [_points(ring) for ring in _RING.findall(wkt)]
    all_points = [p for ring in rings for p in ring]
    if not all_points:
        return GeometryMetrics(0.0, 0.0, (0.0, 0.0))
    mean = (sum(p[0] for p in all_points) / len(all_points), sum(p[1] for p in all_points) / len(all_points))
    if kind.startswith("POINT"):
        return GeometryMetrics(0.0, 0.0, all_points[0])
    length = 0.0
    for ring in rings:
        length += sum(math.dist(a, b) for a, b in itertools.pairwise(ring))
    if kind.startswith("LINESTRING"):
        return GeometryMetrics(0.0, length, mean)
    area = 0.0
    cx = cy = 0.0
    for ring in rings:
        signed = 0.0
        for (x0, y0), (x1, y1) in itertools.pairwise(ring):
            cross = x0 * y1 - x1 * y0
            signed += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
        area += signed / 2
    if area == 0:
        return GeometryMetrics(0.0, length, mean)
    return GeometryMetrics(abs(area), length, (cx / (6 * area), cy / (6 * area)))


# ---------------------------------------------------------------------------
# In-memory data
# ---------------------------------------------------------------------------


@dataclass
class StubUser:
    """A user; ``public_key``/``private_key`` sign its requests."""

    id: int
    username: str
    firstname: str
    lastname: str
    email: str
    public_key: str
    private_key: str
    created: int
    updated: int | None = None
    language: str = "EN"
    is_developer: bool = False
    origin: str = "SYSTEM"
    enabled: bool = True

    @property
    def name(self) -> str:
        return f"{self.firstname} {self.lastname}"


@dataclass
class StubOntology:
    """An ontology (its terms are the :class:`StubTerm` whose ``ontology`` is its id)."""

    id: int
    name: str
    user: int
    created: int
    updated: int | None = None


@dataclass
class StubTerm:
    """A term of an ontology."""

    id: int
    name: str
    color: str
    ontology: int
    created: int
    updated: int | None = None
    comment: str | None = None
    parent: int | None = None


@dataclass
class StubProject:
    """A project; ``users`` and ``admins`` are user ids (a caller lists the projects it belongs to)."""

    id: int
    name: str
    ontology: int | None
    created: int | None  # None after a PUT without `created` (servers reset it, see h_project_update)
    updated: int | None = None
    users: list[int] = field(default_factory=list)
    admins: list[int] = field(default_factory=list)
    blind_mode: bool = False
    are_images_downloadable: bool = False
    is_closed: bool = False
    is_read_only: bool = False
    is_restricted: bool = False
    hide_users_layers: bool = False
    hide_admins_layers: bool = False


@dataclass
class StubImage:
    """An image instance of a project (its abstract image id is ``id + 5000``, its slice ``id + 6000``)."""

    id: int
    project: int
    user: int
    filename: str
    width: int
    height: int
    created: int
    updated: int | None = None
    magnification: int | None = 40
    physical_size: float | None = 0.25  # microns per pixel
    content_type: str = "openslide/svs"
    content: bytes | None = None  # the original file; None: 16 KiB made up from the id

    @property
    def base_image(self) -> int:
        return self.id + 5000

    @property
    def slice(self) -> int:
        return self.id + 6000


@dataclass
class StubAnnotation:
    """A user annotation; ``location`` is WKT in image pixels, origin bottom-left as Cytomine has it."""

    id: int
    image: int
    project: int
    slice: int
    user: int
    location: str
    created: int
    updated: int | None = None
    terms: list[int] = field(default_factory=list)


@dataclass
class StubProperty:
    """A key-value property of a domain object (``domain_class_name`` is the simple or full class name)."""

    id: int
    domain_class_name: str
    domain_ident: int
    key: str
    value: str
    created: int
    updated: int | None = None


@dataclass
class StubUpload:
    """An uploaded file and the statuses its polls go through (``steps``, the last one final)."""

    record: JsonObject
    steps: list[int]
    started: float
    polls: int = 0


@dataclass
class StubAttachedFile:
    """A file attached to a domain object."""

    id: int
    domain_class_name: str
    domain_ident: int
    filename: str
    key: str | None
    content: bytes
    created: int
    updated: int | None = None


class StubState:
    """All stub data, by id; guard every access with :attr:`lock` (the stub does for handlers).

    ``seed=True`` adds the demo data (see the package docstring); with ``seed=False`` only the
    current user (``demo``, id 1, the stub's keys) exists.
    """

    lock: threading.RLock
    current_user_id: int
    users: dict[int, StubUser]
    ontologies: dict[int, StubOntology]
    terms: dict[int, StubTerm]
    projects: dict[int, StubProject]
    images: dict[int, StubImage]
    annotations: dict[int, StubAnnotation]
    properties: dict[int, StubProperty]
    attached_files: dict[int, StubAttachedFile]
    uploaded_files: dict[int, JsonObject]  # as last polled: `status` moves along `uploads[id].steps`
    uploads: dict[int, StubUpload]

    def __init__(self, *, public_key: str, private_key: str, seed: bool = True) -> None:
        self.lock = threading.RLock()
        self.current_user_id = 1
        self.users = {}
        self.ontologies = {}
        self.terms = {}
        self.projects = {}
        self.images = {}
        self.annotations = {}
        self.properties = {}
        self.attached_files = {}
        self.uploaded_files = {}
        self.uploads = {}
        self._next_id = 1000
        self._next_command = 1
        if seed:
            self._seed(public_key, private_key)
        else:
            self.users[1] = StubUser(1, "demo", "Demo", "User", "demo@example.org", public_key, private_key,
                                     BASE_TIME_MS)

    def new_id(self) -> int:
        """A new object id (from 1001 on, above the ids of the demo data)."""
        with self.lock:
            self._next_id += 1
            return self._next_id

    def reserve_id(self, ident: int) -> int:
        """Use ``ident`` for a new object: later :meth:`new_id` answers are above it."""
        with self.lock:
            self._next_id = max(self._next_id, ident)
            return ident

    def new_command_id(self) -> int:
        """A new command id (legacy write answers)."""
        with self.lock:
            self._next_command += 1
            return self._next_command

    @property
    def current_user(self) -> StubUser:
        """The user of the stub's keys (``demo``)."""
        return self.users[self.current_user_id]

    def user_by_public_key(self, public_key: str) -> StubUser | None:
        """The enabled user whose public key this is."""
        for user in self.users.values():
            if user.enabled and user.public_key == public_key:
                return user
        return None

    def user_by_username(self, username: str) -> StubUser | None:
        """The enabled user of this name."""
        for user in self.users.values():
            if user.enabled and user.username == username:
                return user
        return None

    def terms_of_ontology(self, ontology_id: int) -> list[StubTerm]:
        """The terms of an ontology."""
        return [t for t in self.terms.values() if t.ontology == ontology_id]

    def images_of_project(self, project_id: int) -> list[StubImage]:
        """The images of a project."""
        return [i for i in self.images.values() if i.project == project_id]

    def _seed(self, public_key: str, private_key: str) -> None:
        t = BASE_TIME_MS
        minute = 60_000
        self.users[1] = StubUser(1, "demo", "Demo", "User", "demo@example.org", public_key, private_key, t)
        self.users[2] = StubUser(
            2,
            "alice",
            "Alice",
            "Martin",
            "alice@example.org",
            "0a1b2c3d-0000-4000-8000-a11ce0000001",
            "0a1b2c3d-0000-4000-8000-a11ce0000002",
            t + minute,
        )
        self.ontologies[10] = StubOntology(10, "Demo: lung tissue", 1, t + 2 * minute)
        for ident, name, color in ((20, "Tumour", "#F44336"), (21, "Stroma", "#4CAF50"), (22, "Necrosis", "#9C27B0")):
            self.terms[ident] = StubTerm(ident, name, color, 10, t + 3 * minute)
        self.projects[100] = StubProject(100, "Demo: lung biopsies", 10, t + 4 * minute, users=[1, 2], admins=[1])
        self.projects[101] = StubProject(101, "Demo: lung resections", 10, t + 5 * minute, users=[1], admins=[1])
        self.projects[102] = StubProject(102, "Demo: training set", 10, t + 6 * minute, users=[1], admins=[1])
        self.images[200] = StubImage(200, 100, 1, "biopsy-001.svs", 46000, 32914, t + 7 * minute)
        self.images[201] = StubImage(201, 100, 1, "biopsy-002.svs", 52000, 38000, t + 8 * minute)
        seed_annotations: tuple[tuple[int, int, int, str, list[int]], ...] = (
            (300, 200, 1, "POLYGON ((1000 1000, 2000 1000, 2000 2000, 1000 2000, 1000 1000))", [20]),
            (301, 200, 1, "POLYGON ((3000 3000, 3500 3000, 3500 3600, 3000 3000))", [21]),
            (302, 200, 2, "POLYGON ((500 4000, 900 4000, 900 4400, 500 4400, 500 4000))", []),
            (303, 201, 1, "POLYGON ((10000 10000, 12000 10000, 12000 11000, 10000 11000, 10000 10000))", [20, 22]),
        )
        for n, (ident, image, user, wkt, terms) in enumerate(seed_annotations):
            img = self.images[image]
            self.annotations[ident] = StubAnnotation(
                ident, image, img.project, img.slice, user, wkt, t + (9 + n) * minute, terms=list(terms)
            )


# ---------------------------------------------------------------------------
# JSON shapes (fields.tsv; dates per docs/server-facts.md section 4)
# ---------------------------------------------------------------------------

_CLASS_NAMES: dict[str, tuple[str, str]] = {
    # simple name: (Spring FQCN, Grails FQCN)
    "Project": ("be.cytomine.domain.project.Project", "be.cytomine.project.Project"),
    "Ontology": ("be.cytomine.domain.ontology.Ontology", "be.cytomine.ontology.Ontology"),
    "Term": ("be.cytomine.domain.ontology.Term", "be.cytomine.ontology.Term"),
    "ImageInstance": ("be.cytomine.domain.image.ImageInstance", "be.cytomine.image.ImageInstance"),
    "UserAnnotation": ("be.cytomine.domain.ontology.UserAnnotation", "be.cytomine.ontology.UserAnnotation"),
    "User": ("be.cytomine.domain.security.User", "be.cytomine.security.User"),
    "AttachedFile": ("be.cytomine.domain.meta.AttachedFile", "be.cytomine.meta.AttachedFile"),
    "Property": ("be.cytomine.domain.meta.Property", "be.cytomine.meta.Property"),
}


def class_name(generation: str, simple: str) -> str:
    """The ``class`` of a domain object of this generation (Spring or Grails package)."""
    spring, grails = _CLASS_NAMES[simple]
    return grails if generation == "legacy" else spring


def domain_base(stub: CytomineStub, simple: str, ident: int, created: int | None, updated: int | None) -> JsonObject:
    """Common ``getDataFromDomain`` part: id, class, epoch-ms string dates (Grails adds deleted)."""
    data: JsonObject = {
        "id": ident,
        "class": class_name(stub.generation, simple),
        "created": epoch_string(created),
        "updated": epoch_string(updated),
    }
    if stub.generation == "legacy":
        data["deleted"] = None
    return data


def project_json(stub: CytomineStub, project: StubProject) -> JsonObject:
    state = stub.state
    ontology = state.ontologies.get(project.ontology) if project.ontology is not None else None
    images = state.images_of_project(project.id)
    annotations = [a for a in state.annotations.values() if a.project == project.id]
    data = domain_base(stub, "Project", project.id, project.created, project.updated)
    data.update(
        {
            "name": project.name,
            "ontology": project.ontology,
            "ontologyName": ontology.name if ontology else None,
            "blindMode": project.blind_mode,
            "areImagesDownloadable": project.are_images_downloadable,
            "isClosed": project.is_closed,
            "isReadOnly": project.is_read_only,
            "isRestricted": project.is_restricted,
            "hideUsersLayers": project.hide_users_layers,
            "hideAdminsLayers": project.hide_admins_layers,
            "numberOfSlides": len(images),
            "numberOfImages": len(images),
            "numberOfAnnotations": len(annotations),
            "numberOfJobAnnotations": 0,
            "numberOfReviewedAnnotations": 0,
        }
    )
    return data


def term_json(stub: CytomineStub, term: StubTerm) -> JsonObject:
    """Legacy Term JSON, or the 2026 TermResponse record (``ontologyId``, ISO dates)."""
    if stub.generation == "2026":
        children = [t for t in stub.state.terms.values() if t.parent == term.id]
        return {
            "id": term.id,
            "name": term.name,
            "color": term.color,
            "comment": term.comment,
            "ontologyId": term.ontology,
            "children": [term_json(stub, child) for child in children],
            "created": local_datetime(term.created),
            "updated": local_datetime(term.updated),
            "deleted": None,
            "dataType": "TERM",
        }
    data = domain_base(stub, "Term", term.id, term.created, term.updated)
    data.update(
        {
            "name": term.name,
            "comment": term.comment,
            "ontology": term.ontology,
            "color": term.color,
            "parent": term.parent,
        }
    )
    return data


def _term_tree_node(stub: CytomineStub, term: StubTerm) -> JsonObject:
    fqcn = class_name(stub.generation, "Term")
    children = [t for t in stub.state.terms.values() if t.parent == term.id]
    return {
        "id": term.id,
        "key": term.id,
        "title": term.name,
        "name": term.name,
        "data": term.name,
        "color": term.color,
        "class": fqcn,
        "parent": term.parent,
        "attr": {"id": term.id, "type": fqcn},
        "isFolder": bool(children),
        "hideCheckbox": False,
        "checked": False,
        "children": [_term_tree_node(stub, child) for child in children],
    }


def ontology_json(stub: CytomineStub, ontology: StubOntology) -> JsonObject:
    """Legacy Ontology JSON, or the 2026 OntologyResponse record."""
    terms = stub.state.terms_of_ontology(ontology.id)
    if stub.generation == "2026":
        return {
            "id": ontology.id,
            "name": ontology.name,
            "user": ontology.user,
            "terms": [term_json(stub, t) for t in terms],
            "created": local_datetime(ontology.created),
            "updated": local_datetime(ontology.updated),
            "deleted": None,
            "dataType": "ONTOLOGY",
        }
    projects = [p for p in stub.state.projects.values() if p.ontology == ontology.id]
    data = domain_base(stub, "Ontology", ontology.id, ontology.created, ontology.updated)
    data.update(
        {
            "name": ontology.name,
            "title": ontology.name,
            "data": ontology.name,
            "attr": {"id": ontology.id, "type": class_name(stub.generation, "Ontology")},
            "isFolder": True,
            "key": ontology.id,
            "hideCheckbox": True,
            "state": "open",
            "user": ontology.user,
            "projects": [project_json(stub, p) for p in projects],
            "children": [_term_tree_node(stub, t) for t in terms if t.parent is None],
        }
    )
    return data


def _current_flags(generation: str) -> JsonObject:
    flags: JsonObject = {"adminByNow": False, "userByNow": True, "guestByNow": False, "isSwitched": False}
    if generation == "legacy":
        flags.update({"admin": False, "user": True, "guest": False})
    return flags


def user_json(stub: CytomineStub, user: StubUser, *, current: bool = False, by_id: bool = False) -> JsonObject:
    """User JSON of the stub's generation.

    * 2026: ``getDataFromDomain`` (epoch-ms *numbers*) for current user / lists,
      the repository ``UserResponse`` record (ISO dates) for ``GET /api/user/{id}.json``;
    * 2025: only ``id, username, name, fullName``;
    * legacy: full Grails JSON, keys for the caller himself.
    """
    generation = stub.generation
    me = stub.state.current_user.id == user.id
    data: JsonObject
    if generation == "2026" and by_id:
        data = {
            "id": user.id,
            "username": user.username,
            "firstname": user.firstname,
            "lastname": user.lastname,
            "email": user.email,
            "name": user.name,
            "isDeveloper": user.is_developer,
            "language": user.language,
            "origin": user.origin,
            "publicKey": user.public_key if me else None,
            "privateKey": user.private_key if me else None,
            "roles": [{"id": 2, "authority": "ROLE_USER", "dataType": "ROLE"}],
            "created": local_datetime(user.created),
            "updated": local_datetime(user.updated),
            "deleted": None,
            "dataType": "USER",
        }
    elif generation == "2026":
        data = {
            "id": user.id,
            "username": user.username,
            "firstname": user.firstname,
            "lastname": user.lastname,
            "email": user.email,
            "name": user.name,
            "fullName": user.name,
            "language": user.language,
            "isDeveloper": user.is_developer,
            "created": user.created,
            "updated": user.updated,
        }
    elif generation == "2025":
        data = {"id": user.id, "username": user.username, "name": user.name, "fullName": user.name}
    else:
        data = domain_base(stub, "User", user.id, user.created, user.updated)
        data.update(
            {
                "username": user.username,
                "firstname": user.firstname,
                "lastname": user.lastname,
                "email": user.email,
                "language": user.language,
                "origin": user.origin,
                "color": None,
                "enabled": user.enabled,
                "algo": False,
                "user": None,
            }
        )
        if me:
            data.update({"publicKey": user.public_key, "privateKey": user.private_key, "passwordExpired": False})
    if current:
        data.update(_current_flags(generation))
    return data


def image_json(stub: CytomineStub, image: StubImage) -> JsonObject:
    host = stub.host
    annotations = [a for a in stub.state.annotations.values() if a.image == image.id]
    zoom = max(0, math.ceil(math.log2(max(image.width, image.height) / 256)))
    data = domain_base(stub, "ImageInstance", image.id, image.created, image.updated)
    data.update(
        {
            "baseImage": image.base_image,
            "project": image.project,
            "user": image.user,
            "filename": image.filename,
            "originalFilename": image.filename,
            "instanceFilename": image.filename,
            "path": f"/data/images/{image.user}/{image.filename}",
            "blindedName": None,
            "contentType": image.content_type,
            "width": image.width,
            "height": image.height,
            "depth": 1,
            "duration": 1,
            "channels": 1,
            "extrinsicChannels": 1,
            "physicalSizeX": image.physical_size,
            "physicalSizeY": image.physical_size,
            "physicalSizeZ": None,
            "fps": None,
            "zoom": zoom,
            "tileSize": 256,
            "magnification": image.magnification,
            "bitPerSample": 8,
            "samplePerPixel": 3,
            "colorspace": "srgb",
            "numberOfAnnotations": len(annotations),
            "numberOfJobAnnotations": 0,
            "numberOfReviewedAnnotations": 0,
            "reviewed": False,
            "inReview": False,
            "reviewStart": None,
            "reviewStop": None,
            "reviewUser": None,
            "isVirtual": False,
            "thumb": f"{host}/api/imageinstance/{image.id}/thumb.png?maxSize=512",
            "preview": f"{host}/api/imageinstance/{image.id}/thumb.png?maxSize=1024",
            "macroURL": f"{host}/api/imageinstance/{image.id}/associated/macro.png?maxWidth=512",
        }
    )
    return data


def _gis(stub: CytomineStub, annotation: StubAnnotation) -> JsonObject:
    metrics = geometry_metrics(annotation.location)
    image = stub.state.images.get(annotation.image)
    resolution = image.physical_size if image else None
    if resolution:
        area, area_unit = metrics.area * resolution * resolution, "micron²"
        perimeter, perimeter_unit = metrics.perimeter * resolution / 1000, "mm"
    else:
        area, area_unit = metrics.area, "pixels²"
        perimeter, perimeter_unit = metrics.perimeter, "pixels"
    return {
        "area": area,
        "areaUnit": area_unit,
        "perimeter": perimeter,
        "perimeterUnit": perimeter_unit,
        "centroid": {"x": metrics.centroid[0], "y": metrics.centroid[1]},
    }


def _annotation_urls(stub: CytomineStub, annotation: StubAnnotation) -> JsonObject:
    host = stub.host
    crop = f"{host}/api/userannotation/{annotation.id}/crop.png"
    return {
        "cropURL": crop,
        "smallCropURL": f"{crop}?maxSize=256",
        "url": crop,
        "imageURL": f"{host}/#/project/{annotation.project}/image/{annotation.image}/annotation/{annotation.id}",
    }


def annotation_json(stub: CytomineStub, annotation: StubAnnotation) -> JsonObject:
    """UserAnnotation domain JSON (epoch-ms string dates)."""
    data = domain_base(stub, "UserAnnotation", annotation.id, annotation.created, annotation.updated)
    data.update(
        {
            "slice": annotation.slice,
            "image": annotation.image,
            "project": annotation.project,
            "user": annotation.user,
            "location": annotation.location,
            "geometryCompression": 0.0,
            "term": list(annotation.terms),
            "nbComments": 0,
            "reviewed": False,
        }
    )
    data.update(_gis(stub, annotation))
    data.update(_annotation_urls(stub, annotation))
    return data


ANNOTATION_GROUPS = ("basic", "meta", "wkt", "gis", "term", "track", "image", "slice", "user")
_GROUP_PARAM = {g: "WKT" if g == "wkt" else ("GIS" if g == "gis" else g.capitalize()) for g in ANNOTATION_GROUPS}


def annotation_groups(params: Mapping[str, str]) -> set[str]:
    """Column groups of an annotation listing (docs/server-facts.md section 8)."""
    shows = {g for g in ANNOTATION_GROUPS if f"show{_GROUP_PARAM[g]}" in params}
    groups = {g for g in shows if flag_param(params, f"show{_GROUP_PARAM[g]}")}
    if flag_param(params, "showDefault") or not shows:
        groups |= {"basic", "meta", "term"}
    return {g for g in groups if not flag_param(params, f"hide{_GROUP_PARAM[g]}")}


def annotation_listing_row(stub: CytomineStub, annotation: StubAnnotation, groups: set[str]) -> JsonObject:
    """One row of ``/api/annotation.json``: ``id`` and ``class`` always, then the requested groups."""
    row: JsonObject = {"id": annotation.id, "class": class_name(stub.generation, "UserAnnotation")}
    if "meta" in groups:
        row.update(
            {
                "created": annotation.created,
                "updated": annotation.updated,
                "image": annotation.image,
                "slice": annotation.slice,
                "project": annotation.project,
                "user": annotation.user,
                "nbComments": 0,
                "countReviewedAnnotations": 0,
                "reviewed": False,
            }
        )
        row.update(_annotation_urls(stub, annotation))
    if "wkt" in groups:
        row.update({"location": annotation.location, "geometryCompression": 0.0})
    if "gis" in groups:
        row.update(_gis(stub, annotation))
    if "term" in groups:
        row["term"] = list(annotation.terms)
        row["userByTerm"] = [
            {"id": annotation.id * 1000 + term, "term": term, "user": [annotation.user]} for term in annotation.terms
        ]
    if "track" in groups:
        row.update({"track": [], "annotationTrack": []})
    if "image" in groups:
        image = stub.state.images.get(annotation.image)
        row.update(
            {
                "originalFilename": image.filename if image else None,
                "instanceFilename": image.filename if image else None,
            }
        )
    if "slice" in groups:
        row.update({"channel": 0, "zStack": 0, "time": 0})
    if "user" in groups:
        user = stub.state.users.get(annotation.user)
        row.update({"creator": user.username if user else None, "name": user.name if user else None})
    return row


def attached_file_json(stub: CytomineStub, attached: StubAttachedFile) -> JsonObject:
    data = domain_base(stub, "AttachedFile", attached.id, attached.created, attached.updated)
    data.update(
        {
            "domainClassName": attached.domain_class_name,
            "domainIdent": attached.domain_ident,
            "filename": attached.filename,
            "key": attached.key,
            "url": f"/api/attachedfile/{attached.id}/download",
        }
    )
    return data


# ---------------------------------------------------------------------------
# Lists: envelopes, sorting, generic filters (docs/server-facts.md section 2)
# ---------------------------------------------------------------------------


def legacy_envelope(items: Sequence[Any], max_: int, offset: int) -> JsonObject:
    """Legacy list envelope: ``max`` 0 = everything, ``offset`` absolute (docs/server-facts.md 2.1)."""
    total = len(items)
    page_size = max_ if max_ > 0 else JAVA_INT_MAX
    start = max(offset, 0)
    return {
        "collection": list(items[start : start + page_size]),
        "offset": offset,
        "perPage": min(page_size, total),
        "size": total,
        "totalPages": math.ceil(total / page_size),
    }


def pageable_envelope(items: Sequence[Any], page: int, size: int) -> JsonObject:
    """2026 repository envelope from Spring ``Pageable`` (docs/server-facts.md 2.2)."""
    page = max(page, 0)
    if size < 1:
        size = PAGEABLE_DEFAULT_SIZE
    size = min(size, PAGEABLE_MAX_SIZE)
    total = len(items)
    start = page * size
    return {
        "collection": list(items[start : start + size]),
        "offset": start,
        "perPage": size,
        "size": total,
        "totalPages": math.ceil(total / size),
    }


def _sort_key(value: Any) -> tuple[int, float, str]:
    if value is None:
        return (2, 0.0, "")
    if isinstance(value, bool | int | float):
        return (0, float(value), "")
    return (1, 0.0, str(value).lower())


def sort_items(items: list[JsonObject], keys: Sequence[tuple[str, bool]]) -> list[JsonObject]:
    """Stable multi-key sort of JSON rows; ``keys`` = [(field, descending)]."""
    result = list(items)
    for name, descending in reversed(keys):
        result.sort(key=lambda row: _sort_key(row.get(name)), reverse=descending)
    return result


def _spring_pageable_int(value: str | None, default: int) -> int:
    """Spring's resolver falls back to the default for unparsable values."""
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def list_response(stub: CytomineStub, req: Request, items: list[JsonObject], *, repository: bool = False) -> Response:
    """Envelope ``items`` the way this generation does for this endpoint.

    ``repository=True`` marks endpoints served by the 2026 repository service:
    there (and only on a ``"2026"`` stub) paging uses ``page``/``size``/``sort``
    and ignores ``max``/``offset``.
    """
    if repository and stub.generation == "2026":
        sort_keys = []
        for spec in req.query.get("sort", []):
            name, _, direction = spec.partition(",")
            if name:
                sort_keys.append((name, direction.strip().lower() == "desc"))
        rows = sort_items(items, sort_keys)
        page = _spring_pageable_int(req.arg("page"), 0)
        size = _spring_pageable_int(req.arg("size"), PAGEABLE_DEFAULT_SIZE)
        return json_response(pageable_envelope(rows, page, size))
    args = req.args
    rows = items
    sort = args.get("sort")
    if sort:
        rows = sort_items(rows, [(sort, args.get("order", "asc").lower() == "desc")])
    return json_response(legacy_envelope(rows, int_param(args, "max", 0), int_param(args, "offset", 0)))


_FILTER_KEY = re.compile(r"^(?P<field>[A-Za-z_][\w.]*)\[(?P<op>equals|nequals|like|ilike|lte|gte|in)\]$")


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _filter_matches(actual: Any, op: str, wanted: str) -> bool:
    if actual is None:
        text = ""
    elif isinstance(actual, bool):
        text = "true" if actual else "false"
    else:
        text = str(actual)
    if op in ("equals", "nequals"):
        equal = text == wanted
        return equal if op == "equals" else not equal
    if op in ("like", "ilike"):
        flags = re.IGNORECASE if op == "ilike" else 0
        pattern = ".*".join(re.escape(part) for part in wanted.split("*"))
        return re.fullmatch(pattern, text, flags | re.DOTALL) is not None
    if op == "in":
        return text in [part.strip() for part in wanted.split(",")]
    left, right = _as_number(actual), _as_number(wanted)
    if left is None or right is None:
        return False
    return left <= right if op == "lte" else left >= right


def apply_field_filters(
    params: Mapping[str, str], items: list[JsonObject], aliases: Mapping[str, str] | None = None
) -> list[JsonObject]:
    """Generic ``<field>[<op>]=<value>`` filters (2025/2026 ``retrieveSearchParameters``)."""
    rows = items
    for key, value in params.items():
        match = _FILTER_KEY.match(key)
        if match is None:
            continue
        name = (aliases or {}).get(match.group("field"), match.group("field"))
        op = match.group("op")
        rows = [row for row in rows if _filter_matches(row.get(name), op, value)]
    return rows


# ---------------------------------------------------------------------------
# Write responses (docs/server-facts.md sections 6 and 7)
# ---------------------------------------------------------------------------


def command_envelope(
    stub: CytomineStub,
    *,
    action: str,
    simple: str,
    key: str,
    obj: JsonObject,
    message: str,
    callback: Mapping[str, Any] | None = None,
) -> JsonObject:
    """Legacy command response: message, callback, printMessage, <key>: object, command."""
    cb: JsonObject = {"method": f"be.cytomine.{action}{simple}Command", f"{key}ID": str(obj["id"])}
    if callback:
        cb.update(callback)
    return {"message": message, "callback": cb, "printMessage": True, key: obj, "command": stub.state.new_command_id()}


def http_command_response(*, action: str, simple: str, record: JsonObject, data_type: str) -> JsonObject:
    """2026 repository write response (``HttpCommandResponse``)."""
    return {
        "printMessage": True,
        "data": {**record, "dataType": data_type},
        "commandId": str(uuid.uuid4()),
        "command": f"be.cytomine.{action}{simple}Command",
        "subCommands": [],
    }


_PAST = {"Add": "added", "Edit": "edited", "Delete": "deleted"}


class ItemError(Exception):
    """A failed item of an add/update (message goes into the error body)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def bulk_response(stub: CytomineStub, domain: str, created_ids: list[int], errors: list[JsonObject]) -> Response:
    """Answer to a POSTed JSON array (docs/server-facts.md section 6)."""
    ids = ",".join(str(i) for i in created_ids)
    data: JsonObject
    if not errors:
        data, status = {"message": f"{domain}s {ids} added"}, 200
    elif not created_ids:
        data, status = {"success": False, "message": "No entry saved", "errors": errors}, 400
    else:
        if stub.generation == "legacy":
            message = f"Only part of the entries ({domain}s {ids}) added."
        else:  # the Spring cores build the message without its end
            message = f"Only part of the entries ({domain}s {ids}"
        data, status = {"success": False, "message": message, "errors": errors}, 206
    if stub.generation == "legacy":
        return json_response(data, status)
    return json_response({"data": data, "status": status}, 200)


# ---------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------


def h_ping(stub: CytomineStub, req: Request) -> Response:
    return json_response(
        {
            "alive": True,
            "version": SERVER_VERSIONS[stub.generation],
            "serverURL": stub.host,
            "serverID": stub.server_id,
        }
    )


# -- IAM (Keycloak) token endpoint, 2025/2026 --


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, status,
                         headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _jwt(claims: JsonObject) -> str:
    """A JWT-shaped token (header.payload.signature, base64url); the signature is random bytes:
    nothing here checks it, and the servers read `preferred_username` from the payload."""
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    header = json.dumps({"alg": "RS256", "typ": "JWT", "kid": "stub"}).encode()
    return ".".join((part(header), part(json.dumps(claims).encode()), part(uuid.uuid4().bytes * 2)))


def _lifespan(seconds: float) -> int | float:
    return int(seconds) if float(seconds).is_integer() else seconds


def h_iam_token(stub: CytomineStub, req: Request) -> Response:
    """``POST /iam/realms/cytomine/protocol/openid-connect/token`` as Keycloak answers it: the
    password and refresh_token grants of the public client ``core``."""
    if req.content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return _oauth_error(400, "invalid_request", "Invalid content type")
    form = {name: values[0] for name, values in parse_qs(req.body.decode("utf-8", "replace")).items()}
    if form.get("client_id") != "core":
        return _oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
    grant = form.get("grant_type")
    now = time.monotonic()
    if grant == "password":
        username = form.get("username", "")
        user = stub.state.user_by_username(username)
        if user is None or stub.passwords.get(username) != form.get("password"):
            return _oauth_error(401, "invalid_grant", "Invalid user credentials")
    elif grant == "refresh_token":
        issued = stub._refresh_tokens.get(form.get("refresh_token", ""))
        if issued is None or now >= issued[1]:
            return _oauth_error(400, "invalid_grant", "Token is not active")
        user = stub.state.user_by_username(issued[0])
        if user is None:
            return _oauth_error(400, "invalid_grant", "Session not active")
    else:
        return _oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")
    access, refresh = stub._issue_tokens(user.username, now)
    return json_response(
        {
            "access_token": access,
            "expires_in": _lifespan(stub.token_lifespan),
            "refresh_expires_in": _lifespan(stub.refresh_lifespan),
            "refresh_token": refresh,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": str(uuid.uuid4()),
            "scope": "profile email",
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _caller(req: Request) -> StubUser:
    if req.user is None:  # routes are authenticated before handlers run
        raise HttpError(empty_response(401))
    return req.user


# -- users --


def h_current_user(stub: CytomineStub, req: Request) -> Response:
    return json_response(user_json(stub, _caller(req), current=True))


def _get_user(stub: CytomineStub, req: Request, ident: int) -> StubUser:
    user = stub.state.users.get(ident)
    if user is None:
        raise repository_not_found(stub, req, "User", ident)
    return user


def h_user(stub: CytomineStub, req: Request) -> Response:
    user = _get_user(stub, req, req.path_int("id"))
    return json_response(user_json(stub, user, by_id=True))


# -- projects --


def _get_project(stub: CytomineStub, ident: int) -> StubProject:
    project = stub.state.projects.get(ident)
    if project is None:
        raise not_found(stub, "Project", ident)
    return project


def _project_rows(stub: CytomineStub, req: Request, projects: Iterable[StubProject]) -> list[JsonObject]:
    args = req.args
    rows = []
    caller = _caller(req)
    for project in projects:
        row = project_json(stub, project)
        if flag_param(args, "withMembersCount"):
            row["membersCount"] = len(set(project.users) | set(project.admins))
        if flag_param(args, "withCurrentUserRoles"):
            row["currentUserRoles"] = {"admin": caller.id in project.admins, "representative": False}
        if flag_param(args, "withDescription"):
            row["description"] = None
        if flag_param(args, "withLastActivity"):
            row["lastActivity"] = None
        rows.append(row)
    return apply_field_filters(args, rows, {"ontology_id": "ontology"})


def h_project_list(stub: CytomineStub, req: Request) -> Response:
    caller = _caller(req)
    visible = [p for p in stub.state.projects.values() if caller.id in p.users or caller.id in p.admins]
    return list_response(stub, req, _project_rows(stub, req, visible))


def h_user_project_list(stub: CytomineStub, req: Request) -> Response:
    user_id = req.path_int("id")
    if user_id not in stub.state.users:
        raise not_found(stub, "User", user_id)
    member = [p for p in stub.state.projects.values() if user_id in p.users or user_id in p.admins]
    return list_response(stub, req, _project_rows(stub, req, member))


def h_project_get(stub: CytomineStub, req: Request) -> Response:
    return json_response(project_json(stub, _get_project(stub, req.path_int("id"))))


_PROJECT_FLAGS = {
    "blindMode": "blind_mode",
    "areImagesDownloadable": "are_images_downloadable",
    "isClosed": "is_closed",
    "isReadOnly": "is_read_only",
    "isRestricted": "is_restricted",
    "hideUsersLayers": "hide_users_layers",
    "hideAdminsLayers": "hide_admins_layers",
}


def _apply_project_body(stub: CytomineStub, project: StubProject, body: JsonObject) -> None:
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            raise validation_error(stub, "Project name cannot be empty")
        for other in stub.state.projects.values():
            if other.id != project.id and other.name == name:
                raise validation_error(stub, f"Project {name} already exist!", 409)
        project.name = name
    if "ontology" in body:
        ontology = body["ontology"]
        if ontology is not None and (not isinstance(ontology, int) or ontology not in stub.state.ontologies):
            raise validation_error(stub, f"Ontology {ontology} not found")
        project.ontology = ontology
    for json_name, attribute in _PROJECT_FLAGS.items():
        if json_name in body:
            setattr(project, attribute, bool(body[json_name]))
    try:
        if "users" in body:
            project.users = sorted(set(as_id_list(body["users"])))
        if "admins" in body:
            project.admins = sorted(set(as_id_list(body["admins"])))
    except ValueError:
        raise validation_error(stub, "users and admins must be lists of user ids") from None


def _project_message(project: StubProject, action: str) -> str:
    return f"Project {project.id} ({project.name}) {_PAST[action]}"


def h_project_create(stub: CytomineStub, req: Request) -> Response:
    body = req.json_object()
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise validation_error(stub, "Project name cannot be empty")
    caller = _caller(req)
    project = StubProject(stub.state.new_id(), "", None, now_ms())
    _apply_project_body(stub, project, body)
    project.users = sorted(set(project.users) | {caller.id})
    project.admins = sorted(set(project.admins) | {caller.id})
    stub.state.projects[project.id] = project
    envelope = command_envelope(
        stub,
        action="Add",
        simple="Project",
        key="project",
        obj=project_json(stub, project),
        message=_project_message(project, "Add"),
    )
    return json_response(envelope)


def _body_date(value: Any) -> int | None:
    """A date of a legacy domain body (epoch ms, string or number); None if absent or unreadable."""
    try:
        return int(str(value))
    except ValueError:
        return None


def h_project_update(stub: CytomineStub, req: Request) -> Response:
    """A PUT replaces the project: the servers rebuild it from the body, absent fields included.

    Project.buildDomainFromJson (2025, 2026 core; Grails: insertDataIntoDomain) reads every field
    with a default: an absent name is null (Grails: "name must be set!"; Spring: the NOT NULL
    column refuses it), an absent ontology none, absent flags false, an absent `created` null.
    Only `users` and `admins` (read by ProjectService.update) are left alone when absent.
    """
    project = _get_project(stub, req.path_int("id"))
    body = req.json_object()
    if not isinstance(body.get("name"), str):
        raise validation_error(stub, "name must be set! value=null" if stub.generation == "legacy"
                               else "Cannot persist object: null value in column \"name\"")
    project = dataclasses.replace(project, ontology=None, created=_body_date(body.get("created")))
    for attribute in _PROJECT_FLAGS.values():
        setattr(project, attribute, False)
    _apply_project_body(stub, project, body)
    project.updated = now_ms()
    stub.state.projects[project.id] = project
    envelope = command_envelope(
        stub,
        action="Edit",
        simple="Project",
        key="project",
        obj=project_json(stub, project),
        message=_project_message(project, "Edit"),
    )
    return json_response(envelope)


def h_project_delete(stub: CytomineStub, req: Request) -> Response:
    project = _get_project(stub, req.path_int("id"))
    obj = project_json(stub, project)
    state = stub.state
    del state.projects[project.id]
    for image in state.images_of_project(project.id):
        del state.images[image.id]
    for annotation in [a for a in state.annotations.values() if a.project == project.id]:
        del state.annotations[annotation.id]
    envelope = command_envelope(
        stub, action="Delete", simple="Project", key="project", obj=obj, message=_project_message(project, "Delete")
    )
    return json_response(envelope)


# -- ontologies and terms --


def _get_ontology(stub: CytomineStub, req: Request, ident: int) -> StubOntology:
    ontology = stub.state.ontologies.get(ident)
    if ontology is None:
        raise repository_not_found(stub, req, "Ontology", ident)
    return ontology


def h_ontology_list(stub: CytomineStub, req: Request) -> Response:
    ontologies = list(stub.state.ontologies.values())
    if stub.generation != "2026" and flag_param(req.args, "light"):
        rows: list[JsonObject] = [{"id": o.id, "name": o.name} for o in ontologies]
    else:
        rows = [ontology_json(stub, o) for o in ontologies]
    return list_response(stub, req, rows, repository=True)


def h_ontology_get(stub: CytomineStub, req: Request) -> Response:
    return json_response(ontology_json(stub, _get_ontology(stub, req, req.path_int("id"))))


def h_ontology_terms(stub: CytomineStub, req: Request) -> Response:
    ontology = _get_ontology(stub, req, req.path_int("id"))
    rows = [term_json(stub, t) for t in stub.state.terms_of_ontology(ontology.id)]
    return list_response(stub, req, rows, repository=True)


def h_project_terms(stub: CytomineStub, req: Request) -> Response:
    project = _get_project(stub, req.path_int("id"))
    terms = stub.state.terms_of_ontology(project.ontology) if project.ontology is not None else []
    return list_response(stub, req, [term_json(stub, t) for t in terms], repository=True)


def h_term_list(stub: CytomineStub, req: Request) -> Response:
    return list_response(stub, req, [term_json(stub, t) for t in stub.state.terms.values()])


def _get_term(stub: CytomineStub, req: Request, ident: int) -> StubTerm:
    term = stub.state.terms.get(ident)
    if term is None:
        raise repository_not_found(stub, req, "Term", ident)
    return term


def h_term_get(stub: CytomineStub, req: Request) -> Response:
    return json_response(term_json(stub, _get_term(stub, req, req.path_int("id"))))


def _term_error(stub: CytomineStub, message: str, status: int = 400) -> HttpError:
    if stub.generation == "2026":  # repository: bean validation / ResponseStatusException
        return HttpError(error_message_response(status, message))
    return validation_error(stub, message, status)


def _apply_term_body(stub: CytomineStub, term: StubTerm, body: JsonObject, *, creating: bool) -> None:
    """Copy the writable fields of ``body`` into ``term``; raise ItemError if invalid.

    2026 ``UpdateTerm`` only carries ``name`` and ``color``.
    """
    if stub.generation == "2026" and not creating:
        body = {k: v for k, v in body.items() if k in ("name", "color")}
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            raise ItemError("Term name cannot be empty")
        term.name = name
    if "color" in body:
        if not isinstance(body["color"], str):
            raise ItemError("Term color must be a string")
        term.color = body["color"]
    if "comment" in body:
        term.comment = body["comment"] if isinstance(body["comment"], str) else None
    if "ontology" in body:
        ontology = body["ontology"]
        if not isinstance(ontology, int) or isinstance(ontology, bool):
            raise ItemError("Term ontology must be an ontology id")
        if ontology not in stub.state.ontologies:
            raise ItemError(f"Ontology {ontology} not found", 404)
        term.ontology = ontology
    if "parent" in body:
        parent = body["parent"]
        if parent is not None and (not isinstance(parent, int) or parent not in stub.state.terms):
            raise ItemError(f"Term {parent} not found")
        term.parent = parent
    for other in stub.state.terms.values():
        if other.id != term.id and other.ontology == term.ontology and other.name == term.name:
            raise ItemError(f"Term {term.name} already exist in this ontology!", 409)


def _term_write_response(stub: CytomineStub, term: StubTerm, obj: JsonObject, action: str) -> Response:
    if stub.generation == "2026":
        return json_response(http_command_response(action=action, simple="Term", record=obj, data_type="TERM"))
    envelope = command_envelope(
        stub,
        action=action,
        simple="Term",
        key="term",
        obj=obj,
        message=f"Term {term.id} ({term.name}) {_PAST[action]}",
        callback={"ontologyID": str(term.ontology)},
    )
    return json_response(envelope)


def _create_term_item(stub: CytomineStub, req: Request, body: Any) -> StubTerm:
    if not isinstance(body, dict):
        raise ItemError("Term must be a JSON object")
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise ItemError("Term name cannot be empty")
    if "ontology" not in body:
        raise ItemError("Term ontology is mandatory")
    term = StubTerm(stub.state.new_id(), "", "#000000", -1, now_ms())
    _apply_term_body(stub, term, body, creating=True)
    stub.state.terms[term.id] = term
    return term


def h_term_create(stub: CytomineStub, req: Request) -> Response:
    body = req.json
    if isinstance(body, list) and stub.generation != "2026":  # add()-based POST: bulk (docs/server-facts.md 6)
        return _bulk_create(stub, req, body, "term", _create_term_item)
    if not isinstance(body, dict):
        raise bad_request(BODY_PARSE_ERROR)
    try:
        term = _create_term_item(stub, req, body)
    except ItemError as exc:
        raise _term_error(stub, exc.message, exc.status) from None
    return _term_write_response(stub, term, term_json(stub, term), "Add")


def h_term_update(stub: CytomineStub, req: Request) -> Response:
    term = _get_term(stub, req, req.path_int("id"))
    candidate = dataclasses.replace(term)
    try:
        _apply_term_body(stub, candidate, req.json_object(), creating=False)
    except ItemError as exc:
        raise _term_error(stub, exc.message, exc.status) from None
    candidate.updated = now_ms()
    stub.state.terms[term.id] = candidate
    return _term_write_response(stub, candidate, term_json(stub, candidate), "Edit")


def h_term_delete(stub: CytomineStub, req: Request) -> Response:
    term = _get_term(stub, req, req.path_int("id"))
    obj = term_json(stub, term)
    del stub.state.terms[term.id]
    for annotation in stub.state.annotations.values():
        if term.id in annotation.terms:
            annotation.terms.remove(term.id)
    return _term_write_response(stub, term, obj, "Delete")


# -- images --


def h_image_get(stub: CytomineStub, req: Request) -> Response:
    ident = req.path_int("id")
    image = stub.state.images.get(ident)
    if image is None:
        raise not_found(stub, "ImageInstance", ident)
    return json_response(image_json(stub, image))


def h_project_images(stub: CytomineStub, req: Request) -> Response:
    project = _get_project(stub, req.path_int("id"))
    rows = [image_json(stub, image) for image in stub.state.images_of_project(project.id)]
    return list_response(stub, req, apply_field_filters(req.args, rows))


# -- annotations --


def _listing_params(req: Request) -> dict[str, str]:
    params = req.args
    if req.method == "POST" and req.body.strip():
        body = req.json_object()
        for key, value in body.items():
            if isinstance(value, list):
                params[key] = ",".join(str(v) for v in value)
            elif isinstance(value, bool):
                params[key] = "true" if value else "false"
            elif value is not None:
                params[key] = str(value)
    return params


def h_annotation_list(stub: CytomineStub, req: Request) -> Response:
    params = _listing_params(req)
    annotations = sorted(stub.state.annotations.values(), key=lambda a: a.id, reverse=True)
    if flag_param(params, "reviewed"):
        annotations = []  # the stub has no reviewed annotations

    def keep(values: list[int] | None, actual: int) -> bool:
        return values is None or actual in values

    projects = id_list_param(params, "project")
    images = id_list_param(params, "image") or id_list_param(params, "images")
    users = id_list_param(params, "user") or id_list_param(params, "users")
    terms = id_list_param(params, "term") or id_list_param(params, "terms")
    excluded = id_list_param(params, "excludedAnnotation") or []
    after = int_param(params, "afterThan", -1)
    before = int_param(params, "beforeThan", -1)
    rows = []
    groups = annotation_groups(params)
    for a in annotations:
        if not (keep(projects, a.project) and keep(images, a.image) and keep(users, a.user)):
            continue
        if terms is not None and not set(terms) & set(a.terms):
            continue
        if flag_param(params, "noTerm") and a.terms:
            continue
        if flag_param(params, "multipleTerm") and len(a.terms) < 2:
            continue
        if a.id in excluded or (after >= 0 and a.created <= after) or (before >= 0 and a.created >= before):
            continue
        rows.append(annotation_listing_row(stub, a, groups))
    envelope = legacy_envelope(rows, int_param(params, "max", 0), int_param(params, "offset", 0))
    return json_response(envelope)


def _get_annotation(stub: CytomineStub, ident: int) -> StubAnnotation:
    annotation = stub.state.annotations.get(ident)
    if annotation is None:
        raise not_found(stub, "Annotation", ident)
    return annotation


def h_annotation_get(stub: CytomineStub, req: Request) -> Response:
    return json_response(annotation_json(stub, _get_annotation(stub, req.path_int("id"))))


def _annotation_terms(stub: CytomineStub, item: JsonObject, project: StubProject | None) -> list[int] | None:
    raw = item.get("term", item.get("terms"))
    if raw is None:
        return None
    try:
        terms = as_id_list(raw)
    except ValueError:
        raise ItemError("Annotation term must be a list of term ids") from None
    for term_id in terms:
        term = stub.state.terms.get(term_id)
        if term is None or project is None or term.ontology != project.ontology:
            raise ItemError(f"Term {term_id} not found in the ontology of the project")
    return terms


def _check_location(item: JsonObject) -> str:
    if "location" not in item or item["location"] is None:
        raise ItemError("Annotation location is mandatory")
    location = item["location"]
    if not wkt_is_valid(location):
        raise ItemError(f"Annotation location is not a valid WKT geometry: {location!r}")
    return str(location).strip()


def _create_annotation_item(stub: CytomineStub, req: Request, item: Any) -> StubAnnotation:
    if not isinstance(item, dict):
        raise ItemError("Annotation must be a JSON object")
    location = _check_location(item)
    image_id = item.get("image")
    if image_id is None:
        raise ItemError("Annotation image is mandatory")
    image = stub.state.images.get(image_id) if isinstance(image_id, int) else None
    if image is None:
        raise ItemError(f"ImageInstance {image_id} not found", 404)
    project = stub.state.projects.get(image.project)
    terms = _annotation_terms(stub, item, project) or []
    slice_value = item.get("slice")
    slice_id = slice_value if isinstance(slice_value, int) else image.slice
    annotation = StubAnnotation(
        stub.state.new_id(), image.id, image.project, slice_id, _caller(req).id, location, now_ms(), terms=terms
    )
    stub.state.annotations[annotation.id] = annotation
    return annotation


def _annotation_envelope(stub: CytomineStub, annotation: StubAnnotation, obj: JsonObject, action: str) -> Response:
    envelope = command_envelope(
        stub,
        action=action,
        simple="UserAnnotation",
        key="annotation",
        obj=obj,
        message=f"UserAnnotation {annotation.id} {_PAST[action]}",
        callback={"imageID": str(annotation.image), "projectID": str(annotation.project)},
    )
    return json_response(envelope)


ItemCreator = Callable[["CytomineStub", Request, Any], Any]


def _bulk_create(stub: CytomineStub, req: Request, items: list[Any], domain: str, create: ItemCreator) -> Response:
    created: list[int] = []
    errors: list[JsonObject] = []
    for item in items:
        try:
            created.append(create(stub, req, item).id)
        except ItemError as exc:
            errors.append({"data": item, "message": exc.message})
    return bulk_response(stub, domain, created, errors)


def h_annotation_create(stub: CytomineStub, req: Request) -> Response:
    body = req.json
    if isinstance(body, list):
        return _bulk_create(stub, req, body, "userannotation", _create_annotation_item)
    if not isinstance(body, dict):
        raise bad_request(BODY_PARSE_ERROR)
    try:
        annotation = _create_annotation_item(stub, req, body)
    except ItemError as exc:
        raise validation_error(stub, exc.message, exc.status) from None
    return _annotation_envelope(stub, annotation, annotation_json(stub, annotation), "Add")


def h_annotation_update(stub: CytomineStub, req: Request) -> Response:
    annotation = _get_annotation(stub, req.path_int("id"))
    body = req.json_object()
    try:
        location = _check_location(body) if "location" in body else annotation.location
        terms = _annotation_terms(stub, body, stub.state.projects.get(annotation.project))
    except ItemError as exc:
        raise validation_error(stub, exc.message, exc.status) from None
    annotation.location = location
    if terms is not None:
        annotation.terms = terms
    annotation.updated = now_ms()
    return _annotation_envelope(stub, annotation, annotation_json(stub, annotation), "Edit")


def h_annotation_delete(stub: CytomineStub, req: Request) -> Response:
    annotation = _get_annotation(stub, req.path_int("id"))
    obj = annotation_json(stub, annotation)
    del stub.state.annotations[annotation.id]
    return _annotation_envelope(stub, annotation, obj, "Delete")


# -- attached files (multipart) --


def parse_multipart(content_type: str, body: bytes) -> list[tuple[str, str | None, bytes]]:
    """(field name, filename, content) of each part of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return []
    parts: list[tuple[str, str | None, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str):
            parts.append((name, part.get_filename(), payload if isinstance(payload, bytes) else b""))
    return parts


def h_attached_file_create(stub: CytomineStub, req: Request) -> Response:
    if not req.content_type.lower().startswith("multipart/form-data"):
        raise bad_request("Request is not a multipart request")
    parts = parse_multipart(req.content_type, req.body)
    params = req.args
    for name, filename, content in parts:
        if filename is None:
            params.setdefault(name, content.decode("utf-8", errors="replace"))
    files = [(filename, content) for name, filename, content in parts if name == "files[]"]
    if not files:
        raise bad_request("Required part 'files[]' is not present.")
    domain_ident = params.get("domainIdent")
    domain_class = params.get("domainClassName")
    if domain_ident is None or domain_class is None:
        raise bad_request("domainIdent and domainClassName are required")
    filename = params.get("filename") or files[0][0] or "file"
    attached = StubAttachedFile(
        stub.state.new_id(),
        domain_class,
        parse_int(domain_ident, "domainIdent"),
        filename,
        params.get("key"),
        files[0][1],
        now_ms(),
    )
    stub.state.attached_files[attached.id] = attached
    return json_response(attached_file_json(stub, attached))


def _get_attached_file(stub: CytomineStub, ident: int) -> StubAttachedFile:
    attached = stub.state.attached_files.get(ident)
    if attached is None:
        raise not_found(stub, "AttachedFile", ident)
    return attached


def h_attached_file_get(stub: CytomineStub, req: Request) -> Response:
    return json_response(attached_file_json(stub, _get_attached_file(stub, req.path_int("id"))))


def h_attached_file_download(stub: CytomineStub, req: Request) -> Response:
    attached = _get_attached_file(stub, req.path_int("id"))
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="{attached.filename}"',
    }
    return Response(200, attached.content, headers)


# -- original files and thumbnails: the user from a bearer token in the query --


def _query_token_user(stub: CytomineStub, req: Request, *, thumb: bool = False) -> StubUser:
    """The servers' rule (docs/server-facts.md sections 1.1 and 5): 2026 reads `authorization`, 2025
    `Authorization`, a bearer JWT whose `preferred_username` names the user, decoded without
    checking its signature; missing, 2025 answers 400 and 2026 thumbnails fail with a 500."""
    name = "authorization" if stub.generation == "2026" else "Authorization"
    value = req.arg(name)
    if not value:
        if thumb and stub.generation == "2026":
            raise HttpError(error_message_response(500, "java.lang.NullPointerException"))
        raise HttpError(error_message_response(
            400, f"Required request parameter '{name}' for method parameter type String is not present"))
    token = value[7:] if value.lower().startswith("bearer ") else value
    username = stub.state.current_user.username if token == stub.token else _jwt_username(token)
    user = stub.state.user_by_username(username) if username else None
    if user is None:
        raise HttpError(error_message_response(500, "Cannot read the user from the token"))
    return user


def _jwt_username(token: str) -> str | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    name = claims.get("preferred_username") if isinstance(claims, dict) else None
    return name if isinstance(name, str) else None


def original_content(image: StubImage) -> bytes:
    """The bytes of an image's original file: ``image.content``, or 16 KiB made up from its id."""
    if image.content is not None:
        return image.content
    return bytes(range(256)) * 64 + image.id.to_bytes(4, "big")


def _image_by_id(stub: CytomineStub, ident: int, *, abstract: bool = False) -> StubImage:
    for image in stub.state.images.values():
        if (image.base_image if abstract else image.id) == ident:
            return image
    if stub.synthetic_images:  # any id: a made-up 10000 x 8000 slide (see CytomineStub)
        return StubImage(ident, 0, stub.state.current_user_id, f"slide-{ident}.svs", 10000, 8000, BASE_TIME_MS)
    raise not_found(stub, "AbstractImage" if abstract else "ImageInstance", ident)


_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


def _image_file(stub: CytomineStub, req: Request, *, abstract: bool = False) -> Response:
    """The original file, with ``Range`` (``bytes=a-`` and ``bytes=a-b``) and ``If-Range`` like the servers."""
    if stub.generation != "legacy":
        _query_token_user(stub, req)
    image = _image_by_id(stub, req.path_int("id"), abstract=abstract)
    content = original_content(image)
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="{image.filename}"',
        "Accept-Ranges": "bytes",
        "ETag": f'"slide-{image.id}"',
    }
    asked = _RANGE.fullmatch(req.headers.get("range", "").strip())
    if asked and req.headers.get("if-range") in (None, headers["ETag"]):
        start = int(asked.group(1))
        end = min(int(asked.group(2)), len(content) - 1) if asked.group(2) else len(content) - 1
        if start >= len(content) or end < start:
            return Response(416, b"", {"Content-Range": f"bytes */{len(content)}"})
        headers["Content-Range"] = f"bytes {start}-{end}/{len(content)}"
        return Response(206, content[start : end + 1], headers)
    return Response(200, content, headers)


def picture(x: float, y: float, width: float, height: float, fmt: str, max_size: int | None = None) -> Response:
    """An image answer of the slide region (x, y, width, height), scaled down to ``max_size``."""
    width, height = max(1.0, width), max(1.0, height)
    scale = max(width, height) / max_size if max_size and max(width, height) > max_size else 1.0
    out_w, out_h = max(1, round(width / scale)), max(1, round(height / scale))
    raw = _images.render(x, y, out_w, out_h, scale)
    body, content_type, note = _images.encode(raw, out_w, out_h, fmt)
    headers = {"Content-Type": content_type}
    if note:
        headers["X-Cytomine-Stub-Note"] = note
    return Response(200, body, headers)


def _max_size(req: Request, default: int | None) -> int | None:
    value = req.arg("maxSize")
    if value is None or not value.strip():
        return default
    size = parse_int(value, "maxSize")
    return size if size > 0 else default


def _bbox(stub: CytomineStub, wkt: str, image: StubImage) -> tuple[float, float, float, float]:
    """(left, top, width, height) in image pixels (top-left origin) of a WKT in Cytomine's
    bottom-left-origin coordinates."""
    points = [p for ring in _RING.findall(wkt) for p in _points(ring)]
    if not points:
        raise bad_request(f"Invalid geometry: {wkt!r}")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), image.height - max(ys), max(xs) - min(xs), max(ys) - min(ys)


def h_image_download(stub: CytomineStub, req: Request) -> Response:
    return _image_file(stub, req)


def h_abstract_image_download(stub: CytomineStub, req: Request) -> Response:
    return _image_file(stub, req, abstract=True)


def h_image_thumb(stub: CytomineStub, req: Request) -> Response:
    """Thumb (``maxSize`` 512 by default) or preview (1024): the whole slide, scaled down."""
    if stub.generation != "legacy":
        _query_token_user(stub, req, thumb=True)
    image = _image_by_id(stub, req.path_int("id"))
    default = 1024 if req.path.rsplit("/", 1)[-1].startswith("preview") else 512
    size = _max_size(req, default) or default
    return picture(0, 0, image.width, image.height, req.params["format"], size)


def h_image_window(stub: CytomineStub, req: Request) -> Response:
    """``window-{x}-{y}-{w}-{h}.{format}``: the region at full resolution, clipped to the slide."""
    image = _image_by_id(stub, req.path_int("id"))
    x, y, w, h = (req.path_int(name) for name in ("x", "y", "w", "h"))
    if x >= image.width or y >= image.height or w <= 0 or h <= 0:
        raise bad_request(f"Region {x},{y},{w},{h} is outside image {image.id} ({image.width}x{image.height})")
    return picture(x, y, min(w, image.width - x), min(h, image.height - y), req.params["format"])


def h_image_crop(stub: CytomineStub, req: Request) -> Response:
    """``crop.{format}`` of an image: the bounding box of ``geometry`` (or ``location``), ``maxSize`` 256."""
    image = _image_by_id(stub, req.path_int("id"))
    wkt = req.arg("geometry") or req.arg("location")
    if not wkt:
        raise bad_request("Parameter geometry or location is required")
    left, top, width, height = _bbox(stub, wkt, image)
    return picture(left, top, width, height, req.params["format"], _max_size(req, 256))


def _annotation_picture(stub: CytomineStub, req: Request) -> Response:
    if stub.synthetic_images and req.path_int("id") not in stub.state.annotations:
        return picture(0, 0, 256, 256, req.params["format"], _max_size(req, None))
    annotation = _get_annotation(stub, req.path_int("id"))
    image = _image_by_id(stub, annotation.image)
    left, top, width, height = _bbox(stub, annotation.location, image)
    return picture(left, top, width, height, req.params["format"], _max_size(req, None))


def h_annotation_crop(stub: CytomineStub, req: Request) -> Response:
    """``userannotation/{id}/crop.{format}``: the annotation's bounding box (``maxSize`` to scale it down)."""
    if stub.generation == "2025":  # 2025 reads the crop's user from `Authorization` (docs/server-facts.md 5)
        _query_token_user(stub, req)
    return _annotation_picture(stub, req)


_NOT_LEGACY = ("2026", "2025")


# ---------------------------------------------------------------------------
# Route table (generations per endpoints.tsv)
# ---------------------------------------------------------------------------

ROUTES: list[Route] = [
    route("POST", IAM_TOKEN_PATH, h_iam_token, generations=SPRING, public=True),
    route("GET", "/server/ping", h_ping, public=True),
    route("POST", "/server/ping", h_ping, generations=NOT_2026, public=True),
    route("GET", "/server/ping.json", h_ping, generations=NOT_2026, public=True),
    route("POST", "/server/ping.json", h_ping, generations=NOT_2026, public=True),
    route("GET", "/api/user/current.json", h_current_user),
    route("GET", "/api/user/{id}.json", h_user),
    route("GET", "/api/project.json", h_project_list),
    route("POST", "/api/project.json", h_project_create),
    route("GET", "/api/user/{id}/project.json", h_user_project_list),
    route("GET", "/api/project/{id}.json", h_project_get),
    route("PUT", "/api/project/{id}.json", h_project_update),
    route("DELETE", "/api/project/{id}.json", h_project_delete),
    route("GET", "/api/ontology.json", h_ontology_list),
    route("GET", "/api/ontology/{id}.json", h_ontology_get),
    route("GET", "/api/ontology/{id}/term.json", h_ontology_terms),
    route("GET", "/api/project/{id}/term.json", h_project_terms),
    route("GET", "/api/term.json", h_term_list, generations=NOT_2026),
    route("POST", "/api/term.json", h_term_create),
    route("GET", "/api/term/{id}.json", h_term_get),
    route("PUT", "/api/term/{id}.json", h_term_update),
    route("DELETE", "/api/term/{id}.json", h_term_delete),
    route("GET", "/api/imageinstance/{id}.json", h_image_get),
    route("GET", "/api/project/{id}/imageinstance.json", h_project_images),
    route("GET", "/api/annotation.json", h_annotation_list),
    route("POST", "/api/annotation.json", h_annotation_create),
    route("GET", "/api/annotation/search.json", h_annotation_list),
    route("POST", "/api/annotation/search.json", h_annotation_list),
    route("GET", "/api/annotation/{id}.json", h_annotation_get),
    route("PUT", "/api/annotation/{id}.json", h_annotation_update),
    route("DELETE", "/api/annotation/{id}.json", h_annotation_delete),
    route("POST", "/api/attachedfile.json", h_attached_file_create),
    route("GET", "/api/attachedfile/{id}.json", h_attached_file_get),
    route("GET", "/api/attachedfile/{id}/download", h_attached_file_download),
    # permitAll at filter level on 2025/2026 (the user comes from the query token); signed on legacy.
    route("GET", "/api/imageinstance/{id}/download", h_image_download, generations=_NOT_LEGACY, public=True),
    route("GET", "/api/imageinstance/{id}/download", h_image_download, generations=("legacy",)),
    route("GET", "/api/abstractimage/{id}/download", h_abstract_image_download, generations=_NOT_LEGACY, public=True),
    route("GET", "/api/abstractimage/{id}/download", h_abstract_image_download, generations=("legacy",)),
    route("GET", "/api/imageinstance/{id}/preview.{format:str}", h_image_thumb, generations=_NOT_LEGACY, public=True),
    route("GET", "/api/imageinstance/{id}/preview.{format:str}", h_image_thumb, generations=("legacy",)),
    route("GET", "/api/imageinstance/{id}/window-{x}-{y}-{w}-{h}.{format:str}", h_image_window),
    route("GET", "/api/imageinstance/{id}/crop.{format:str}", h_image_crop),
    route("GET", "/api/imageinstance/{id}/thumb.{format:str}", h_image_thumb, generations=_NOT_LEGACY, public=True),
    route("GET", "/api/imageinstance/{id}/thumb.{format:str}", h_image_thumb, generations=("legacy",)),
    route("GET", "/api/userannotation/{id}/crop.{format:str}", h_annotation_crop, generations=("2025",), public=True),
    route("GET", "/api/userannotation/{id}/crop.{format:str}", h_annotation_crop, generations=("2026", "legacy")),
]


# ---------------------------------------------------------------------------
# Routes the task examples need (examples/): ontology creation, users and project members,
# annotation crops, storages, and uploads to the image server with their uploaded files.
# ---------------------------------------------------------------------------


def h_ontology_create(stub: CytomineStub, req: Request) -> Response:
    body = req.json_object()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _term_error(stub, "Ontology name cannot be empty")
    if any(o.name == name for o in stub.state.ontologies.values()):
        raise _term_error(stub, f"Ontology {name} already exist!", 409)
    ontology = StubOntology(stub.state.new_id(), name, _caller(req).id, now_ms())
    stub.state.ontologies[ontology.id] = ontology
    obj = ontology_json(stub, ontology)
    if stub.generation == "2026":
        return json_response(http_command_response(action="Add", simple="Ontology", record=obj, data_type="ONTOLOGY"))
    message = f"Ontology {ontology.id} ({name}) added"
    return json_response(command_envelope(stub, action="Add", simple="Ontology", key="ontology", obj=obj,
                                          message=message))


def h_user_list(stub: CytomineStub, req: Request) -> Response:
    return list_response(stub, req, [user_json(stub, u) for u in stub.state.users.values()])


def h_project_members(stub: CytomineStub, req: Request) -> Response:
    project = _get_project(stub, req.path_int("id"))
    members = sorted(set(project.users) | set(project.admins))
    return list_response(stub, req, [user_json(stub, stub.state.users[i]) for i in members if i in stub.state.users])


def _add_member(stub: CytomineStub, req: Request, *, manager: bool) -> Response:
    project = _get_project(stub, req.path_int("project"))
    user = _get_user(stub, req, req.path_int("user"))
    project.users = sorted(set(project.users) | {user.id})
    if manager:
        project.admins = sorted(set(project.admins) | {user.id})
    return json_response({"data": {"message": "OK"}, "status": 200})


def h_project_add_member(stub: CytomineStub, req: Request) -> Response:
    return _add_member(stub, req, manager=False)


def h_project_add_manager(stub: CytomineStub, req: Request) -> Response:
    return _add_member(stub, req, manager=True)


def h_any_annotation_crop(stub: CytomineStub, req: Request) -> Response:
    return _annotation_picture(stub, req)


def _storage_id(user: StubUser) -> int:
    return 9000 + user.id  # one storage per user


def h_storage_list(stub: CytomineStub, req: Request) -> Response:
    user = _caller(req)
    owner = "userId" if stub.generation == "2026" else "user"
    row: JsonObject = {"id": _storage_id(user), "name": f"{user.username} storage", owner: user.id}
    return list_response(stub, req, [row], repository=True)


def h_pims_upload(stub: CytomineStub, req: Request) -> Response:
    """PIMS's upload: checks the 2026 signature whatever the core (or a bearer token), registers an
    uploaded file (status 0, UPLOADED) and adds an image to each project. Polled, its status goes
    through DETECTING_FORMAT (10), EXTRACTING_DATA (20) and DEPLOYING (40) to DEPLOYED (100); a
    file starting with ``not a slide`` stops at ERROR_FORMAT (11) instead (see upload_status)."""
    public_key = server_auth.authenticate(generation="2026", method=req.method, raw_target=req.raw_target,
                                          headers=req.headers, private_key_for=stub._private_key_for)
    user = stub.state.user_by_public_key(public_key) if public_key else None
    if user is None and stub.generation != "legacy":
        user = stub.authenticate(req)
    if user is None:
        return empty_response(401)
    files = [(f, c) for name, f, c in parse_multipart(req.content_type, req.body) if name == "files[]"]
    storage = req.arg("storage") or req.arg("idStorage")
    if not files or storage is None:
        return json_response([{"status": 400, "error": "files[] and storage are required"}], 400)
    filename, content = files[0][0] or "upload", files[0][1]
    projects = id_list_param(req.args, "projects") or id_list_param(req.args, "idProject") or []
    for project_id in projects:
        _get_project(stub, project_id)
        image = StubImage(stub.state.new_id(), project_id, user.id, filename, 10000, 8000, now_ms())
        stub.state.images[image.id] = image
    uploaded: JsonObject = {
        "id": stub.state.new_id(), "created": epoch_string(now_ms()), "user": user.id,
        "storage": parse_int(storage, "storage"), "projects": projects, "filename": filename,
        "originalFilename": filename, "ext": filename.rpartition(".")[2], "size": len(content), "status": 0,
    }
    steps = [10, 11] if content.startswith(b"not a slide") else [10, 20, 40, 100]
    record = dict(uploaded)
    stub.state.uploaded_files[uploaded["id"]] = record
    stub.state.uploads[uploaded["id"]] = StubUpload(record, steps, time.monotonic())
    answer = {"status": 200, "name": filename, "size": len(req.body), "uploadedFile": uploaded, "images": []}
    return json_response([answer])


def h_uploaded_file_get(stub: CytomineStub, req: Request) -> Response:
    ident = req.path_int("id")
    uploaded = stub.state.uploaded_files.get(ident)
    if uploaded is None:
        raise repository_not_found(stub, req, "UploadedFile", ident)
    progress = stub.state.uploads.get(ident)
    if progress is not None:
        progress.polls += 1
        uploaded["status"] = upload_status(stub, progress)
    return json_response(uploaded)


def upload_status(stub: CytomineStub, upload: StubUpload) -> int:
    """The status of an upload now: each poll moves it one step at least, and each
    ``stub.upload_step_seconds`` since the upload one more (0: straight to the last step)."""
    last = len(upload.steps) - 1
    if stub.upload_step_seconds <= 0:
        return upload.steps[last]
    by_time = int((time.monotonic() - upload.started) / stub.upload_step_seconds)
    return upload.steps[min(last, max(upload.polls, by_time) - 1)] if max(upload.polls, by_time) > 0 else 0


# -- properties (key-value metadata of any domain object) --


_ANNOTATION_CLASSES = ("UserAnnotation", "AlgoAnnotation", "ReviewedAnnotation", "AnnotationDomain")


def _simple_class(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def property_json(stub: CytomineStub, prop: StubProperty) -> JsonObject:
    """Property domain JSON (``getDataFromDomain``)."""
    data = domain_base(stub, "Property", prop.id, prop.created, prop.updated)
    data.update({"domainClassName": prop.domain_class_name, "domainIdent": prop.domain_ident,
                 "key": prop.key, "value": prop.value})
    return data


def _properties_of(stub: CytomineStub, classes: Sequence[str], ident: int) -> list[StubProperty]:
    simple = {_simple_class(c) for c in classes}
    return [p for p in stub.state.properties.values()
            if p.domain_ident == ident and _simple_class(p.domain_class_name) in simple]


def _domain_target(req: Request) -> tuple[Sequence[str], int]:
    """(class names, id) of the domain object a property route is about."""
    if "domainClassName" in req.params:
        return [unquote(req.params["domainClassName"])], req.path_int("domainIdent")
    targets: tuple[tuple[str, Sequence[str]], ...] = (
        ("project", ("Project",)), ("imageinstance", ("ImageInstance",)), ("annotation", _ANNOTATION_CLASSES))
    for name, classes in targets:
        if name in req.params:
            return classes, req.path_int(name)
    raise bad_request("No domain in the path")


def _get_property(stub: CytomineStub, req: Request) -> StubProperty:
    classes, ident = _domain_target(req)
    wanted = req.path_int("id")
    for prop in _properties_of(stub, classes, ident):
        if prop.id == wanted:
            return prop
    raise not_found(stub, "Property", wanted)


def h_property_list(stub: CytomineStub, req: Request) -> Response:
    classes, ident = _domain_target(req)
    return list_response(stub, req, [property_json(stub, p) for p in _properties_of(stub, classes, ident)])


def h_property_get(stub: CytomineStub, req: Request) -> Response:
    return json_response(property_json(stub, _get_property(stub, req)))


def h_property_by_key(stub: CytomineStub, req: Request) -> Response:
    classes, ident = _domain_target(req)
    key = unquote(req.params["key"])
    for prop in _properties_of(stub, classes, ident):
        if prop.key == key:
            return json_response(property_json(stub, prop))
    raise HttpError(error_message_response(404, f"Property not found with key : {key}"))


def _property_envelope(stub: CytomineStub, prop: StubProperty, action: str) -> Response:
    return json_response(command_envelope(
        stub, action=action, simple="Property", key="property", obj=property_json(stub, prop),
        message=f"Property {prop.id} ({prop.key}) {_PAST[action]}",
        callback={"domainClassName": prop.domain_class_name, "domainIdent": str(prop.domain_ident)}))


def _create_property_item(stub: CytomineStub, req: Request, item: Any) -> StubProperty:
    if not isinstance(item, dict):
        raise ItemError("Property must be a JSON object")
    if "domainClassName" in req.params:
        item = {**item, "domainClassName": unquote(req.params["domainClassName"]),
                "domainIdent": req.path_int("domainIdent")}
    key, domain_class, ident = item.get("key"), item.get("domainClassName"), item.get("domainIdent")
    if not isinstance(key, str) or not key.strip():
        raise ItemError("Property key cannot be empty")
    if not isinstance(domain_class, str) or not isinstance(ident, int) or isinstance(ident, bool):
        raise ItemError("Property domainClassName and domainIdent are mandatory")
    value = item.get("value")
    prop = StubProperty(stub.state.new_id(), domain_class, ident, key, "" if value is None else str(value), now_ms())
    stub.state.properties[prop.id] = prop
    return prop


def h_property_create(stub: CytomineStub, req: Request) -> Response:
    body = req.json
    if isinstance(body, list):
        return _bulk_create(stub, req, body, "property", _create_property_item)
    try:
        prop = _create_property_item(stub, req, body)
    except ItemError as exc:
        raise validation_error(stub, exc.message, exc.status) from None
    return _property_envelope(stub, prop, "Add")


def h_property_update(stub: CytomineStub, req: Request) -> Response:
    prop = _get_property(stub, req)
    body = req.json_object()
    key = body.get("key", prop.key)
    if not isinstance(key, str) or not key.strip():
        raise validation_error(stub, "Property key cannot be empty")
    prop.key, prop.updated = key, now_ms()
    if "value" in body:
        prop.value = "" if body["value"] is None else str(body["value"])
    return _property_envelope(stub, prop, "Edit")


def h_property_delete(stub: CytomineStub, req: Request) -> Response:
    prop = _get_property(stub, req)
    del stub.state.properties[prop.id]
    return _property_envelope(stub, prop, "Delete")


def _property_keys(stub: CytomineStub, req: Request, classes: Sequence[str]) -> Response:
    project, image = req.arg("idProject"), req.arg("idImage")
    if project is None and image is None:
        raise bad_request("Parameter idProject or idImage is required")
    if image is not None:
        wanted = {parse_int(image, "idImage")} if "ImageInstance" in classes else {
            a.id for a in stub.state.annotations.values() if a.image == parse_int(image, "idImage")}
    elif "ImageInstance" in classes:
        wanted = {i.id for i in stub.state.images_of_project(parse_int(project or "", "idProject"))}
    else:
        wanted = {a.id for a in stub.state.annotations.values() if a.project == parse_int(project or "", "idProject")}
    keys = sorted({p.key for p in stub.state.properties.values()
                   if p.domain_ident in wanted and _simple_class(p.domain_class_name) in classes})
    return list_response(stub, req, cast(list[JsonObject], keys))


def h_annotation_property_keys(stub: CytomineStub, req: Request) -> Response:
    return _property_keys(stub, req, _ANNOTATION_CLASSES)


def h_image_property_keys(stub: CytomineStub, req: Request) -> Response:
    return _property_keys(stub, req, ("ImageInstance",))


ROUTES.extend([
    route("POST", "/api/ontology.json", h_ontology_create),
    route("GET", "/api/user.json", h_user_list),
    route("GET", "/api/project/{id}/user.json", h_project_members),
    route("POST", "/api/project/{project}/user/{user}.json", h_project_add_member),
    route("POST", "/api/project/{project}/user/{user}/admin.json", h_project_add_manager),
    route("GET", "/api/annotation/{id}/crop.{format:str}", h_any_annotation_crop),
    route("GET", "/api/storage.json", h_storage_list),
    route("POST", "/upload", h_pims_upload, public=True),
    route("GET", "/api/uploadedfile/{id}.json", h_uploaded_file_get),
    route("GET", "/api/domain/{domainClassName:str}/{domainIdent}/property.json", h_property_list),
    route("POST", "/api/domain/{domainClassName:str}/{domainIdent}/property.json", h_property_create),
    route("GET", "/api/domain/{domainClassName:str}/{domainIdent}/property/{id}.json", h_property_get),
    route("PUT", "/api/domain/{domainClassName:str}/{domainIdent}/property/{id}.json", h_property_update),
    route("DELETE", "/api/domain/{domainClassName:str}/{domainIdent}/property/{id}.json", h_property_delete),
    route("GET", "/api/domain/{domainClassName:str}/{domainIdent}/key/{key:str}/property.json", h_property_by_key),
    route("POST", "/api/property.json", h_property_create),
    route("GET", "/api/annotation/property/key.json", h_annotation_property_keys),
    route("GET", "/api/imageinstance/property/key.json", h_image_property_keys),
    *[route("GET", f"/api/{name}/{{{name}}}/{tail}", handler)
      for name in ("project", "imageinstance", "annotation")
      for tail, handler in (("property.json", h_property_list), ("property/{id}.json", h_property_get),
                            ("key/{key:str}/property.json", h_property_by_key))],
])


# ---------------------------------------------------------------------------
# HTTP server
# ---------------------------------------------------------------------------


class _StubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # many threads connecting at once: no SYN dropped (1 s retransmits)
    block_on_close = False  # idle keep-alive connections must not block stop()
    stub: CytomineStub


class _StubRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CytomineStub/1"
    timeout = 60
    # Headers and body go in two writes: without TCP_NODELAY the body waits for the client's
    # delayed ACK, ~40 ms on every keep-alive request (production servers set it too).
    disable_nagle_algorithm = True

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline().split(b";", 1)[0].strip()
                size = int(size_line or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        stub = cast(_StubHTTPServer, self.server).stub
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), value)
        response = stub.handle(self.command, self.path, headers, self._read_body())
        if response.delay > 0:
            time.sleep(response.delay)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.reset_after is not None:  # an injected fault: part of the body, then a reset
            self.wfile.write(response.body[: response.reset_after])
            self.wfile.flush()
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        stub = cast(_StubHTTPServer, self.server).stub
        if stub.verbose:
            super().log_message(format, *args)


class CytomineStub:
    """A local Cytomine server of one generation (``"2026"``, ``"2025"`` or ``"legacy"``).

    Start it with ``with CytomineStub("2025") as stub:`` or ``stub.start()`` / ``stub.stop()``;
    it listens on ``stub.host`` (127.0.0.1, a free port) in a thread of this process and accepts
    requests signed with ``stub.public_key`` / ``stub.private_key`` (and bearer tokens on
    2025/2026: ``token=``, or the IAM login ``stub.username`` / ``stub.password``).

    Args:
        generation: the server generation whose routes, signatures, JSON and errors it answers.
        seed: add the demo data (projects 100-102, ontology 10, images 200-201, annotations
            300-303, user ``alice``); ``False`` starts with the current user only.
        fixture: a JSON (or YAML, with pyyaml) file or a mapping to load with :meth:`load_fixture`.
        synthetic_images: binary routes answer a made-up 10000 x 8000 slide for image and
            annotation ids the stub does not hold (the servers answer 404: the default).
        upload_step_seconds: how long an uploaded file stays in each status (0: DEPLOYED at once).
        token_lifespan, refresh_lifespan: seconds the IAM's access and refresh tokens are accepted.
        port: 0 for a free port.
        verbose: log every request to stderr.
    """

    generation: str
    public_key: str
    private_key: str
    token: str | None
    username: str
    password: str
    passwords: dict[str, str]
    token_lifespan: float
    refresh_lifespan: float
    port: int
    verbose: bool
    server_id: str
    synthetic_images: bool
    upload_step_seconds: float
    state: StubState
    routes: list[Route]
    requests: list[RecordedRequest]
    faults: list[Fault]

    def __init__(
        self,
        generation: str = "2026",
        *,
        seed: bool = True,
        fixture: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        public_key: str = DEFAULT_PUBLIC_KEY,
        private_key: str = DEFAULT_PRIVATE_KEY,
        token: str | None = None,
        password: str = DEFAULT_PASSWORD,
        token_lifespan: float = DEFAULT_TOKEN_LIFESPAN,
        refresh_lifespan: float = DEFAULT_REFRESH_LIFESPAN,
        synthetic_images: bool = False,
        upload_step_seconds: float = 0.05,
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        if generation not in ALL_GENERATIONS:
            raise ValueError(f"unknown generation {generation!r}; expected one of {server_auth.GENERATIONS}")
        self.generation = generation
        self.public_key = public_key
        self.private_key = private_key
        self.token = token
        # IAM logins (2025/2026): username -> password; issued tokens -> (username, expiry in
        # time.monotonic()), guarded by state.lock like all data.
        self.username = DEFAULT_USERNAME
        self.password = password
        self.passwords = {DEFAULT_USERNAME: password}
        if seed:
            self.passwords["alice"] = "alice-password"
        self.token_lifespan = token_lifespan
        self.refresh_lifespan = refresh_lifespan
        self._access_tokens: dict[str, tuple[str, float]] = {}
        self._refresh_tokens: dict[str, tuple[str, float]] = {}
        self.port = port
        self.verbose = verbose
        self.server_id = str(uuid.uuid4())
        self.synthetic_images = synthetic_images
        self.upload_step_seconds = upload_step_seconds
        self.state = StubState(public_key=public_key, private_key=private_key, seed=seed)
        self.routes = list(ROUTES)
        self.requests = []
        self.faults = []
        self._requests_lock = threading.Lock()
        self._server: _StubHTTPServer | None = None
        self._thread: threading.Thread | None = None
        if fixture is not None:
            self.load_fixture(fixture)

    # -- lifecycle --

    @property
    def host(self) -> str:
        """``http://127.0.0.1:<port>`` once started."""
        if self._server is None:
            raise RuntimeError("the stub is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def running(self) -> bool:
        """Whether the stub is serving."""
        return self._server is not None

    def start(self) -> CytomineStub:
        """Serve on 127.0.0.1 in a daemon thread (a free port unless ``port`` was given); returns the stub."""
        if self._server is not None:
            return self
        server = _StubHTTPServer(("127.0.0.1", self.port), _StubRequestHandler)
        server.stub = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="cytomine-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (the data and the recorded requests are kept)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> CytomineStub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- extension --

    def add_route(
        self,
        method: str,
        template: str,
        handler: Handler,
        *,
        generations: Iterable[str] | None = None,
        public: bool = False,
    ) -> Route:
        """Serve one more route on this stub (checked before the built-in ones)."""
        new = route(method, template, handler, generations=generations or ALL_GENERATIONS, public=public)
        self.routes.insert(0, new)
        return new

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._requests_lock:
            self.requests.clear()

    def requests_to(self, method: str, template: str) -> list[RecordedRequest]:
        """The recorded requests to ``method template`` (``"*"`` for any method; ``{x}`` matches an id)."""
        probe = Fault(method, template)
        with self._requests_lock:
            return [r for r in self.requests if probe.matches(r.method, r.path)]

    # -- clients --

    def configuration(self, **options: Any) -> Configuration:
        """A :class:`~cytomine_sdk.Configuration` for this stub: its host and keys, then ``options``."""
        from cytomine_sdk.configuration import Configuration

        if not ({"token", "token_provider", "username", "public_key"} & set(options)):
            options = {"public_key": self.public_key, "private_key": self.private_key, **options}
        return Configuration(self.host, **options)

    def client(self, **options: Any) -> ApiClient:
        """An :class:`~cytomine_sdk.ApiClient` connected to this stub (see :meth:`configuration`)."""
        from cytomine_sdk.client import ApiClient

        return ApiClient(self.configuration(**options))

    # -- fault injection --

    def fail(
        self,
        method: str,
        template: str,
        *,
        status: int | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        reset_after: int | None = None,
        drift: Drift | Callable[[Any], Any] | None = None,
        times: int | None = None,
    ) -> Fault:
        """Make requests to ``method template`` misbehave; returns the :class:`Fault` (``.hits``).

        ``template`` is a path such as ``/api/project/{id}.json`` (a placeholder matches one path
        segment or part of one), ``method`` a method or ``"*"``. Effects, combinable:

        * ``status``: answer it at once, before authentication, as a proxy or an overloaded server
          would; the body is the servers' error shape ``{"errors": {"message": ...}}`` (empty for
          401) unless ``body`` is given (bytes or text as is, anything else as JSON), plus ``headers``
          (e.g. ``{"Retry-After": "1"}``);
        * ``delay``: seconds to wait before answering (a client timeout shorter than it fires);
        * ``reset_after``: send the headers and this many bytes of the body, then reset the connection;
        * ``drift``: change the JSON answers (:class:`Drift`: extra, renamed, dropped or retyped fields,
          or any function of the parsed JSON).

        ``times`` limits the fault to that many requests (``None``: every one); faults added later
        are checked first. :meth:`clear_faults` removes them all.
        """
        if status is None and not delay and reset_after is None and drift is None:
            raise ValueError("a fault needs status, delay, reset_after or drift")
        fault = Fault(method, template, status=status, body=body, headers=dict(headers or {}), delay=delay,
                      reset_after=reset_after, drift=drift, times=times)
        with self.state.lock:
            self.faults.insert(0, fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self.state.lock:
            self.faults.clear()

    def _claim_fault(self, method: str, path: str) -> Fault | None:
        with self.state.lock:
            faults = list(self.faults)
        for fault in faults:
            if fault.claim(method, path):
                return fault
        return None

    @staticmethod
    def _fault_response(fault: Fault) -> Response:
        assert fault.status is not None
        body = fault.body
        if body is None:
            if fault.status == 401:
                response = empty_response(401)
            else:
                try:
                    reason = HTTPStatus(fault.status).phrase
                except ValueError:
                    reason = "Error"
                response = error_message_response(fault.status, f"{reason} (fault injected by the Cytomine stub)")
        elif isinstance(body, bytes | str):
            data = body.encode("utf-8") if isinstance(body, str) else body
            kind = "text/html" if data.lstrip().startswith(b"<") else "text/plain"
            response = Response(fault.status, data, {"Content-Type": kind})
        else:
            response = json_response(body, fault.status)
        response.headers.update(fault.headers)
        return response

    # -- seeding --

    def _user_id(self, user: int | str | StubUser | None) -> int:
        if user is None:
            return self.state.current_user_id
        if isinstance(user, StubUser):
            return user.id
        if isinstance(user, str):
            found = self.state.user_by_username(user)
            if found is None:
                raise KeyError(f"no user {user!r}")
            return found.id
        if user not in self.state.users:
            raise KeyError(f"no user {user}")
        return user

    def _ontology_id(self, ontology: int | str | StubOntology) -> int:
        if isinstance(ontology, StubOntology):
            return ontology.id
        for candidate in self.state.ontologies.values():
            if ontology in (candidate.id, candidate.name):
                return candidate.id
        raise KeyError(f"no ontology {ontology!r}")

    def _new_id(self, id: int | None) -> int:
        return self.state.new_id() if id is None else self.state.reserve_id(id)

    def add_user(self, username: str, *, password: str | None = None, firstname: str = "Test",
                 lastname: str | None = None, email: str | None = None, id: int | None = None) -> StubUser:
        """A new user with its own API keys (``.public_key``/``.private_key``) and, with ``password``,
        an IAM login (2025/2026)."""
        with self.state.lock:
            ident = self._new_id(id)
            user = StubUser(ident, username, firstname, lastname or username.capitalize(),
                            email or f"{username}@example.org", str(uuid.uuid4()), str(uuid.uuid4()), now_ms())
            self.state.users[ident] = user
            if password is not None:
                self.passwords[username] = password
            return user

    def add_ontology(self, name: str, terms: Iterable[str] | Mapping[str, str] = (), *,
                     id: int | None = None) -> StubOntology:
        """A new ontology with ``terms`` (names, or names to colours ``"#RRGGBB"``)."""
        with self.state.lock:
            ontology = StubOntology(self._new_id(id), name, self.state.current_user_id, now_ms())
            self.state.ontologies[ontology.id] = ontology
            colours = terms if isinstance(terms, Mapping) else {term: None for term in terms}
            for term, colour in colours.items():
                self.add_term(ontology, term, colour)
            return ontology

    def add_term(self, ontology: int | str | StubOntology, name: str, color: str | None = None, *,
                 parent: int | StubTerm | None = None, id: int | None = None) -> StubTerm:
        """A new term of ``ontology`` (an id, a name or the object)."""
        with self.state.lock:
            palette = ("#F44336", "#4CAF50", "#9C27B0", "#2196F3", "#FF9800", "#795548")
            colour = color or palette[len(self.state.terms) % len(palette)]
            parent_id = parent.id if isinstance(parent, StubTerm) else parent
            term = StubTerm(self._new_id(id), name, colour, self._ontology_id(ontology), now_ms(), parent=parent_id)
            self.state.terms[term.id] = term
            return term

    def add_project(self, name: str, *, ontology: int | str | StubOntology | None = None,
                    members: Iterable[int | str | StubUser] = (), managers: Iterable[int | str | StubUser] = (),
                    id: int | None = None) -> StubProject:
        """A new project; the current user is a member and a manager, ``members``/``managers`` too."""
        with self.state.lock:
            admins = {self.state.current_user_id, *(self._user_id(u) for u in managers)}
            users = admins | {self._user_id(u) for u in members}
            project = StubProject(self._new_id(id), name,
                                  None if ontology is None else self._ontology_id(ontology), now_ms(),
                                  users=sorted(users), admins=sorted(admins))
            self.state.projects[project.id] = project
            return project

    def add_image(self, project: int | StubProject, filename: str = "slide.svs", *, width: int = 10000,
                  height: int = 8000, magnification: int | None = 40, resolution: float | None = 0.25,
                  content: bytes | None = None, id: int | None = None) -> StubImage:
        """A new image of ``project``: ``width`` x ``height`` pixels, ``resolution`` microns per pixel;
        ``content`` is its original file (downloads), by default 16 KiB made up from its id."""
        project_id = project.id if isinstance(project, StubProject) else project
        with self.state.lock:
            if project_id not in self.state.projects:
                raise KeyError(f"no project {project_id}")
            image = StubImage(self._new_id(id), project_id, self.state.current_user_id, filename, width, height,
                              now_ms(), magnification=magnification, physical_size=resolution, content=content)
            self.state.images[image.id] = image
            return image

    def _term_ids(self, project: StubProject, terms: Iterable[int | str | StubTerm]) -> list[int]:
        ids: list[int] = []
        for term in terms:
            if isinstance(term, StubTerm):
                ids.append(term.id)
            elif isinstance(term, int):
                ids.append(term)
            else:
                found = [t.id for t in self.state.terms.values()
                         if t.name == term and t.ontology == project.ontology]
                if not found:
                    raise KeyError(f"no term {term!r} in the ontology of project {project.id}")
                ids.append(found[0])
        return ids

    def add_annotations(self, image: int | StubImage, locations: Iterable[str | Mapping[str, Any]], *,
                        terms: Iterable[int | str | StubTerm] = (),
                        user: int | str | StubUser | None = None) -> list[StubAnnotation]:
        """New annotations of ``image``: each a WKT (image pixels, origin bottom-left) with ``terms``
        (ids, names in the project's ontology, or objects), or a mapping ``{"location": ...,
        "terms": [...], "user": ...}``."""
        image_id = image.id if isinstance(image, StubImage) else image
        created: list[StubAnnotation] = []
        with self.state.lock:
            stored = self.state.images.get(image_id)
            if stored is None:
                raise KeyError(f"no image {image_id}")
            project = self.state.projects[stored.project]
            for item in locations:
                spec: Mapping[str, Any] = {"location": item} if isinstance(item, str) else item
                location = spec["location"]
                if not wkt_is_valid(location):
                    raise ValueError(f"not a WKT geometry: {location!r}")
                annotation = StubAnnotation(
                    self._new_id(spec.get("id")), stored.id, stored.project, stored.slice,
                    self._user_id(spec.get("user", user)), str(location).strip(), now_ms(),
                    terms=self._term_ids(project, spec.get("terms", terms)))
                self.state.annotations[annotation.id] = annotation
                created.append(annotation)
        return created

    def _domain(self, target: StubProject | StubImage | StubAnnotation | StubOntology | tuple[str, int]
                ) -> tuple[str, int]:
        simple = {StubProject: "Project", StubImage: "ImageInstance", StubAnnotation: "UserAnnotation",
                  StubOntology: "Ontology"}
        if isinstance(target, tuple):
            return target
        name = simple[type(target)]
        spring, grails = _CLASS_NAMES.get(name, (f"be.cytomine.domain.{name}", f"be.cytomine.{name}"))
        return (grails if self.generation == "legacy" else spring), target.id

    def add_property(self, target: StubProject | StubImage | StubAnnotation | tuple[str, int], key: str,
                     value: object) -> StubProperty:
        """A key-value property of a project, image or annotation (or ``(class name, id)``)."""
        domain_class, ident = self._domain(target)
        with self.state.lock:
            prop = StubProperty(self.state.new_id(), domain_class, ident, key, str(value), now_ms())
            self.state.properties[prop.id] = prop
            return prop

    def add_attached_file(self, target: StubProject | StubImage | StubAnnotation | tuple[str, int],
                          filename: str, content: bytes, *, key: str | None = None) -> StubAttachedFile:
        """A file attached to a project, image or annotation (or ``(class name, id)``)."""
        domain_class, ident = self._domain(target)
        with self.state.lock:
            attached = StubAttachedFile(self.state.new_id(), domain_class, ident, filename, key, content, now_ms())
            self.state.attached_files[attached.id] = attached
            return attached

    def load_fixture(self, source: str | os.PathLike[str] | Mapping[str, Any]) -> None:
        """Add the data of a fixture: a mapping, or a JSON file (YAML with pyyaml: ``.yaml``/``.yml``).

        Keys (all optional): ``users`` (``username``, ``password``, ``id``), ``ontologies``
        (``name``, ``id``, ``terms``: names or ``{name, color}``), ``projects`` (``name``, ``id``,
        ``ontology`` by name or id, ``members``, ``managers``, ``properties``, ``images``: each
        ``filename``, ``width``, ``height``, ``id``, ``properties``, ``annotations``: each
        ``location``, ``terms`` by name or id, ``user``, ``properties``). See docs/guide/testing.md.
        """
        from ._fixtures import load

        load(self, source)

    # -- IAM tokens --

    def _issue_tokens(self, username: str, now: float) -> tuple[str, str]:
        """A new (access token, refresh token) pair for `username`, valid from `now`."""
        wall = int(time.time())
        origin = self.host if self._server is not None else "http://127.0.0.1"  # handle() without HTTP
        claims: JsonObject = {
            "iss": f"{origin}/iam/realms/cytomine", "azp": "core", "preferred_username": username,
            "iat": wall, "jti": str(uuid.uuid4()),
        }
        access = _jwt({**claims, "exp": wall + math.ceil(self.token_lifespan), "typ": "Bearer"})
        refresh = _jwt({**claims, "exp": wall + math.ceil(self.refresh_lifespan), "typ": "Refresh"})
        with self.state.lock:
            self._access_tokens[access] = (username, now + self.token_lifespan)
            self._refresh_tokens[refresh] = (username, now + self.refresh_lifespan)
        return access, refresh

    def accepted_tokens(self) -> dict[str, str]:
        """Bearer tokens accepted now -> username: the static ``token`` (the current user's) and
        the IAM's access tokens that have not expired."""
        now = time.monotonic()
        with self.state.lock:
            tokens = {token: name for token, (name, until) in self._access_tokens.items() if now < until}
        if self.token is not None:
            tokens[self.token] = self.state.current_user.username
        return tokens

    def issued_tokens(self) -> list[str]:
        """Every access and refresh token the IAM endpoint issued (secrets to look for in logs)."""
        with self.state.lock:
            return [*self._access_tokens, *self._refresh_tokens]

    def expire_tokens(self, *, access: bool = True, refresh: bool = False) -> None:
        """End the IAM tokens issued so far (access tokens, refresh tokens, or both) as if their
        lifespan had passed: a test needs no sleep to see the client renew them."""
        now = time.monotonic()
        with self.state.lock:
            for issued, wanted in ((self._access_tokens, access), (self._refresh_tokens, refresh)):
                if wanted:
                    for token, (name, until) in issued.items():
                        issued[token] = (name, min(until, now))

    def token_requests(self, grant_type: str | None = None) -> list[RecordedRequest]:
        """The requests to the IAM's token endpoint, optionally of one grant (``"password"``,
        ``"refresh_token"``)."""
        with self._requests_lock:
            seen = [r for r in self.requests if r.path == IAM_TOKEN_PATH]
        if grant_type is None:
            return seen
        return [r for r in seen if parse_qs(r.body.decode("utf-8", "replace")).get("grant_type") == [grant_type]]

    # -- request handling (usable without HTTP) --

    def _private_key_for(self, public_key: str) -> str | None:
        user = self.state.user_by_public_key(public_key)
        return user.private_key if user else None

    def authenticate(self, req: Request) -> StubUser | None:
        """API-key check via the oracle; Bearer token (2025/2026, and ``?auth=`` on 2026)."""
        public_key = server_auth.authenticate(
            generation=self.generation,
            method=req.method,
            raw_target=req.raw_target,
            headers=req.headers,
            private_key_for=self._private_key_for,
        )
        if public_key is not None:
            return self.state.user_by_public_key(public_key)
        tokens = self.accepted_tokens()
        if self.generation == "legacy" or not tokens:
            return None
        headers = req.headers
        if self.generation == "2026" and "authorization" not in headers:
            value = req.arg("auth") or req.arg("Authorization")
            if value:
                bearer = value if value.lower().startswith("bearer ") else f"Bearer {value}"
                headers = {**headers, "authorization": bearer}
        username = server_auth.bearer_subject(headers, tokens)
        return self.state.user_by_username(username) if username else None

    def handle(self, method: str, raw_target: str, headers: Mapping[str, str], body: bytes) -> Response:
        """Answer one request (headers with any case) and record it."""
        lower = server_auth.normalise_headers(headers)
        path, query = server_auth.split_target(raw_target)
        req = Request(
            method=method.upper(),
            raw_target=raw_target,
            path=path,
            query=parse_qs(query or "", keep_blank_values=True),
            headers=lower,
            body=body,
        )
        fault = self._claim_fault(req.method, path)
        if fault is not None and fault.status is not None:
            response = self._fault_response(fault)
        else:
            with self.state.lock:
                try:
                    response = self._route(req)
                except HttpError as exc:
                    response = exc.response
                except Exception as exc:  # a stub bug: answer 500 and show it
                    traceback.print_exc(file=sys.stderr)
                    response = error_message_response(500, f"stub error: {exc!r}")
            if fault is not None and 200 <= response.status < 300:
                response.body = fault.drift_body(response.body)
        if fault is not None:
            response.delay, response.reset_after = fault.delay, fault.reset_after
        record = RecordedRequest(
            method=req.method,
            raw_target=raw_target,
            path=path,
            query=req.query,
            headers=lower,
            body=body,
            status=response.status,
            principal=req.user.username if req.user else None,
            fault=fault is not None,
        )
        with self._requests_lock:
            self.requests.append(record)
        return response

    def _route(self, req: Request) -> Response:
        served: list[tuple[Route, re.Match[str]]] = []
        for candidate in self.routes:
            match = candidate.pattern.fullmatch(req.path)
            if match is not None and self.generation in candidate.generations:
                served.append((candidate, match))
        exact = [(r, m) for r, m in served if r.method == req.method]
        if exact and exact[0][0].public:
            chosen, match = exact[0]
            req.params = match.groupdict()
            return chosen.handler(self, req)
        req.user = self.authenticate(req)
        if req.user is None:
            return empty_response(401)
        if not exact:
            if served:
                message = f"Request method '{req.method}' is not supported"
                allow = ", ".join(sorted({r.method for r, _ in served}))
                return json_response({"errors": {"message": message}}, 405, headers={"Allow": allow})
            return error_message_response(404, f"No endpoint {req.method} {req.path}")
        chosen, match = exact[0]
        req.params = match.groupdict()
        return chosen.handler(self, req)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cytomine_sdk.testing``: serve a stub until Ctrl-C, printing its host and keys."""
    parser = argparse.ArgumentParser(prog="python -m cytomine_sdk.testing",
                                     description="A local Cytomine server of one generation, for tests and demos")
    parser.add_argument("--generation", choices=server_auth.GENERATIONS, default="2026")
    parser.add_argument("--no-seed", dest="seed", action="store_false", help="start without the demo data")
    parser.add_argument("--fixture", default=None, help="JSON (or YAML) file of data to add")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--public-key", default=DEFAULT_PUBLIC_KEY)
    parser.add_argument("--private-key", default=DEFAULT_PRIVATE_KEY)
    parser.add_argument("--token", default=None, help="accept 'Authorization: Bearer <token>' (2025/2026)")
    parser.add_argument("--password", default=DEFAULT_PASSWORD,
                        help=f"IAM password of {DEFAULT_USERNAME!r} (2025/2026)")
    parser.add_argument("--token-lifespan", type=float, default=DEFAULT_TOKEN_LIFESPAN,
                        help="seconds an IAM access token is accepted")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    stub = CytomineStub(
        args.generation,
        seed=args.seed,
        fixture=args.fixture,
        public_key=args.public_key,
        private_key=args.private_key,
        token=args.token,
        password=args.password,
        token_lifespan=args.token_lifespan,
        port=args.port,
        verbose=args.verbose,
    ).start()
    print(f"Cytomine stub (generation {stub.generation}) serving; press Ctrl-C to stop")
    print(f"CYTOMINE_HOST={stub.host}")
    print(f"CYTOMINE_PUBLIC_KEY={stub.public_key}")
    print(f"CYTOMINE_PRIVATE_KEY={stub.private_key}")
    if stub.token:
        print(f"CYTOMINE_TOKEN={stub.token}")
    if stub.generation != "legacy":
        print(f"IAM login (instead of keys): CYTOMINE_USERNAME={stub.username} CYTOMINE_PASSWORD={stub.password}")
    sys.stdout.flush()

    def on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
