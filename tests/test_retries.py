"""Retries with backoff (idempotent methods only by default), Retry-After, timeouts."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.exceptions import APIConnectionError, APITimeoutError, InternalServerError, RateLimitError
from cytomine_sdk.models import Project
from tests.support.server_auth import authenticate

PUB, PRIV = "pub-key", "priv-key"
PROJECT = b'{"id": 1, "name": "P"}'


def failing(times: int, status: int = 503, headers: dict[str, str] | None = None,
            body: bytes = PROJECT) -> tuple[Callable[[Request], Response], list[Request]]:
    """A handler answering `status` `times` times, then 200; it records signed-ok requests."""
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        ok = authenticate(generation="2026", method=request.method, raw_target=request.full_path.rstrip("?"),
                          headers=dict(request.headers), private_key_for={PUB: PRIV}.get)
        assert ok == PUB, "every attempt is signed"
        seen.append(request)
        if len(seen) <= times:
            return Response(b'{"errors":{"message":"busy"}}', status=status, headers=headers or {},
                            content_type="application/json")
        return Response(body, content_type="application/json")

    return handler, seen


def client(httpserver: HTTPServer, **config: object) -> ApiClient:
    config.setdefault("retry_backoff", 0.01)
    return ApiClient(Configuration(httpserver.url_for(""), public_key=PUB, private_key=PRIV,
                                   signature="2026", **config))  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_get_is_retried_until_it_succeeds(httpserver: HTTPServer, status: int) -> None:
    handler, seen = failing(2, status)
    httpserver.expect_request("/api/project/1.json").respond_with_handler(handler)
    assert client(httpserver).project_api.retrieve(1).name == "P"
    assert len(seen) == 3


def test_gives_up_after_max_retries(httpserver: HTTPServer) -> None:
    handler, seen = failing(10, 503)
    httpserver.expect_request("/api/project/1.json").respond_with_handler(handler)
    with pytest.raises(InternalServerError) as info:
        client(httpserver, max_retries=2).project_api.retrieve(1)
    assert info.value.status == 503 and info.value.server_message == "busy"
    assert len(seen) == 3


def test_no_retry_when_disabled(httpserver: HTTPServer) -> None:
    handler, seen = failing(1, 429)
    httpserver.expect_request("/api/project/1.json").respond_with_handler(handler)
    with pytest.raises(RateLimitError):
        client(httpserver, max_retries=0).project_api.retrieve(1)
    assert len(seen) == 1


@pytest.mark.parametrize(("opt_in", "attempts"), [(False, 1), (True, 2)])
def test_post_is_not_retried_unless_asked(httpserver: HTTPServer, opt_in: bool, attempts: int) -> None:
    handler, seen = failing(1, 503, body=b'{"message": "ok", "project": {"id": 1}}')
    httpserver.expect_request("/api/project.json", method="POST").respond_with_handler(handler)
    api = client(httpserver, retry_non_idempotent=opt_in)
    if opt_in:
        result = api.project_api.create(Project(name="P"))
        assert result.id == 1
    else:
        with pytest.raises(InternalServerError):
            api.project_api.create(Project(name="P"))
    assert len(seen) == attempts


def test_retry_after_is_honoured_and_each_attempt_signed_anew(httpserver: HTTPServer) -> None:
    handler, seen = failing(1, 429, headers={"Retry-After": "1"})
    httpserver.expect_request("/api/project/1.json").respond_with_handler(handler)
    started = time.monotonic()
    client(httpserver).project_api.retrieve(1)
    assert time.monotonic() - started >= 1.0
    assert len(seen) == 2
    assert seen[0].headers["Date"] != seen[1].headers["Date"]
    assert seen[0].headers["Authorization"] != seen[1].headers["Authorization"]


def test_retry_after_is_capped(httpserver: HTTPServer) -> None:
    handler, seen = failing(1, 503, headers={"Retry-After": "3600"})
    httpserver.expect_request("/api/project/1.json").respond_with_handler(handler)
    started = time.monotonic()
    client(httpserver, max_retry_wait=0.2).project_api.retrieve(1)
    assert time.monotonic() - started < 5
    assert len(seen) == 2


def test_connection_refused_is_retried_then_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    api = ApiClient(Configuration(f"http://127.0.0.1:{port}", max_retries=2, retry_backoff=0.01))
    started = time.monotonic()
    with pytest.raises(APIConnectionError) as info:
        api.project_api.retrieve(1)
    assert not isinstance(info.value, APITimeoutError)
    assert f"127.0.0.1:{port}/api/project/1.json" in str(info.value)
    assert time.monotonic() - started < 5


def stalling(seconds: float, seen: list[Request]) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        seen.append(request)
        time.sleep(seconds)
        return Response(PROJECT, content_type="application/json")
    return handler


def test_read_timeout_is_retried_then_raised(httpserver: HTTPServer) -> None:
    seen: list[Request] = []
    httpserver.expect_request("/api/project/1.json").respond_with_handler(stalling(0.5, seen))
    with pytest.raises(APITimeoutError):
        client(httpserver, read_timeout=0.1, max_retries=1).project_api.retrieve(1)
    time.sleep(0.6)  # let the stalled handler finish before the server stops
    assert len(seen) == 2


def test_per_call_timeout_overrides_the_client(httpserver: HTTPServer) -> None:
    seen: list[Request] = []
    httpserver.expect_request("/api/project/1.json").respond_with_handler(stalling(0.3, seen))
    api = client(httpserver, read_timeout=0.05, max_retries=0)
    assert api.project_api.retrieve(1, timeout=(1.0, 2.0)).name == "P"
    with pytest.raises(APITimeoutError):
        api.project_api.retrieve(1)
    time.sleep(0.4)


def test_a_timed_out_post_is_not_retried(httpserver: HTTPServer) -> None:
    seen: list[Request] = []
    httpserver.expect_request("/api/project.json", method="POST").respond_with_handler(stalling(0.4, seen))
    with pytest.raises(APITimeoutError):
        client(httpserver, read_timeout=0.1).project_api.create(Project(name="P"))
    time.sleep(0.5)
    assert len(seen) == 1


def test_with_options_changes_settings_for_one_use(httpserver: HTTPServer) -> None:
    handler, seen = failing(2, 503)
    httpserver.expect_request("/api/project/1.json").respond_with_handler(handler)
    api = client(httpserver)
    strict = api.with_options(max_retries=0)
    assert strict.project_api is not api.project_api
    assert strict._http is api._http  # same connections
    with pytest.raises(InternalServerError):
        strict.project_api.retrieve(1)
    assert api.project_api.retrieve(1).name == "P"  # the original still retries
    assert len(seen) == 3  # 503 (no retry), then 503 + 200
    assert (api.configuration.max_retries, strict.configuration.max_retries) == (3, 0)
    with pytest.raises(TypeError, match="bogus: not a Configuration setting"):
        api.with_options(bogus=1)
    with pytest.raises(ValueError, match="read_timeout"):
        api.with_options(read_timeout=-1)
    assert api.with_options(verify_ssl=False)._http is not api._http
