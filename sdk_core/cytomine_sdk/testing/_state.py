"""The stub's data, in memory: one dataclass per domain (``Stub*``) and :class:`StubState` holding them.

:class:`StubState` also hands out ids and seeds the demo data.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ._http import JsonObject

BASE_TIME_MS = 1_718_000_000_000  # 2024-06-10T06:13:20Z: seed timestamps start here


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
