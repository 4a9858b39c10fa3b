"""The :class:`CytomineStub` class: a local Cytomine server of one generation, its defaults and API.

It serves the routes of :data:`~cytomine_sdk.testing._routes.ROUTES` (plus its own, see
:meth:`CytomineStub.add_route`) from a thread of this process, checks authentication with
:mod:`cytomine_sdk.testing._auth` (API-key signatures; bearer tokens and the IAM's tokens on
2025/2026), keeps its data in a :class:`StubState`, records requests and injects faults.
"""

from __future__ import annotations

import math
import os
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from . import _auth as server_auth
from ._faults import Drift, Fault
from ._geometry import wkt_is_valid
from ._http import (
    ALL_GENERATIONS,
    Handler,
    HttpError,
    JsonObject,
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
from ._routes_users import IAM_TOKEN_PATH, _jwt
from ._server import _StubHTTPServer, _StubRequestHandler
from ._shapes import _CLASS_NAMES, now_ms
from ._state import (
    StubAnnotation,
    StubAttachedFile,
    StubImage,
    StubOntology,
    StubProject,
    StubProperty,
    StubState,
    StubTerm,
    StubUser,
)

if TYPE_CHECKING:
    from cytomine_sdk.client import ApiClient
    from cytomine_sdk.configuration import Configuration

DEFAULT_PUBLIC_KEY = "5d2c0f7e-8a41-4f3b-9e6d-1b7a3c9e2f40"
DEFAULT_PRIVATE_KEY = "c8e14b27-63fd-4a90-b5e2-7f0d9a6c1e35"
#: The IAM login of the seeded current user ("demo"); "alice" logs in with ``alice-password``.
DEFAULT_USERNAME = "demo"
DEFAULT_PASSWORD = "demo-password-s3cret"
#: Lifespans of the shipped realm: access tokens 300 s, refresh tokens (SSO session idle) 30 min.
DEFAULT_TOKEN_LIFESPAN = 300.0
DEFAULT_REFRESH_LIFESPAN = 1800.0


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
