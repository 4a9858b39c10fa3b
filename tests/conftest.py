"""Shared fixtures: a pytest-httpserver that authenticates like a Cytomine server.

Authentication is checked by tests/support/server_auth.py, an implementation of the servers'
check written from docs/server-facts.md, independent of the SDK's signer.

The testing kit's fixtures (`cytomine_stub`, `cytomine_client`) come from the package's pytest
plugin, registered by its `pytest11` entry point (the editable install has it): it is not listed
in `pytest_plugins` here, which would register it a second time (pytest refuses that).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cytomine_sdk import ApiClient, Configuration
from tests.support.server_auth import authenticate, bearer_subject

PUBLIC_KEY = "0c4a7e2c-public"
PRIVATE_KEY = "9f8e-private-secret-key"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.payload.signature"


@dataclass
class Seen:
    """A request as the server received it."""

    method: str
    raw_target: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    caller: str | None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class CytomineTestServer:
    """Routes answered only to callers authenticated as a server of `generation` would."""

    httpserver: HTTPServer
    generation: str
    public_key: str = PUBLIC_KEY
    private_key: str = PRIVATE_KEY
    seen: list[Seen] = field(default_factory=list)
    rejected: int = 0

    @property
    def host(self) -> str:
        return self.httpserver.url_for("").rstrip("/")

    def client(self, **config: Any) -> ApiClient:
        config.setdefault("public_key", self.public_key)
        config.setdefault("private_key", self.private_key)
        return ApiClient(Configuration(self.host, **config))

    def route(self, method: str, path: str, body: Any = None, status: int = 200,
              content_type: str = "application/json", public: bool = False) -> None:
        """Answer `method path` (a literal path or a regex) with `body` once authenticated."""

        def handler(request: Request) -> Response:
            raw_target = request.environ.get("RAW_URI") or request.full_path
            caller = authenticate(
                generation=self.generation,
                method=request.method,
                raw_target=raw_target,
                headers=dict(request.headers),
                private_key_for={self.public_key: self.private_key}.get,
            )
            if caller is None and self.generation != "legacy":
                caller = bearer_subject(dict(request.headers), {TOKEN: "demo"})
            self.seen.append(
                Seen(
                    request.method,
                    raw_target,
                    request.path,
                    {k: request.args.getlist(k) for k in request.args},
                    dict(request.headers),
                    request.get_data(),
                    caller,
                )
            )
            if caller is None and not public:
                self.rejected += 1
                return Response(b"", status=401)
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            return Response(payload, status=status, content_type=content_type)

        uri: str | re.Pattern[str] = re.compile(path) if path.startswith("^") else path
        self.httpserver.expect_request(uri, method=method).respond_with_handler(handler)

    @property
    def last(self) -> Seen:
        return self.seen[-1]


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own profiles or Cytomine environment variables."""
    monkeypatch.setenv("CYTOMINE_CONFIG", str(tmp_path_factory.mktemp("config") / "config.ini"))
    for name in ("CYTOMINE_PROFILE", "CYTOMINE_HOST", "CYTOMINE_PUBLIC_KEY", "CYTOMINE_PRIVATE_KEY",
                 "CYTOMINE_TOKEN", "CYTOMINE_SIGNATURE", "CYTOMINE_USERNAME", "CYTOMINE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["2026", "2025", "legacy"])
def generation(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server(httpserver: HTTPServer, generation: str) -> Iterator[CytomineTestServer]:
    yield CytomineTestServer(httpserver, generation)
