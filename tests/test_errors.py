"""Typed errors carrying status, the server's message (every body shape) and the request."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer

from cytomine_sdk import ApiClient, Configuration, CytomineError
from cytomine_sdk import exceptions as errors

BODIES = {
    "failed write": ({"success": False, "errors": "Project name already exists", "errorValues": {"id": 1}},
                     "Project name already exists"),
    "grails write": ({"success": False, "errors": "Term name must be unique"}, "Term name must be unique"),
    "exception handler": ({"errors": {"message": "Project not found with filters : {id=5}"}, "errorValues": None},
                          "Project not found with filters : {id=5}"),
    "problem detail": ({"type": "about:blank", "title": "Not Found", "status": 404,
                        "detail": "Unable to find ontology with id: 5", "instance": "/api/ontology/5.json"},
                       "Unable to find ontology with id: 5"),
    "pims": ([{"status": 500, "error": "Unsupported format", "files": [{"size": 0, "error": "x"}]}],
             "Unsupported format"),
}


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, errors.BadRequestError), (401, errors.AuthenticationError), (403, errors.PermissionDeniedError),
     (404, errors.NotFoundError), (409, errors.ConflictError), (429, errors.RateLimitError),
     (500, errors.InternalServerError), (503, errors.InternalServerError), (418, errors.APIStatusError)],
)
@pytest.mark.parametrize("shape", list(BODIES))
def test_status_classes_and_messages(httpserver: HTTPServer, status: int, cls: type[errors.APIStatusError],
                                     shape: str) -> None:
    body, message = BODIES[shape]
    httpserver.expect_request("/api/project/5.json").respond_with_data(
        json.dumps(body), status=status, content_type="application/json")
    api = ApiClient(Configuration(httpserver.url_for(""), max_retries=0))
    with pytest.raises(cls) as info:
        api.project_api.retrieve(5)
    err = info.value
    assert type(err) is cls
    assert isinstance(err, CytomineError)
    assert (err.status, err.server_message, err.method) == (status, message, "GET")
    assert err.url.endswith("/api/project/5.json")
    assert message in str(err) and str(status) in str(err)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [(b"", "text/plain", "(empty body)"),
     (b"<html><body><h1>Whitelabel Error Page</h1></body></html>", "text/html", "Whitelabel Error Page")],
)
def test_bodies_without_a_message(httpserver: HTTPServer, body: bytes, content_type: str, expected: str) -> None:
    httpserver.expect_request("/api/project/5.json").respond_with_data(body, status=500, content_type=content_type)
    with pytest.raises(errors.InternalServerError) as info:
        ApiClient(Configuration(httpserver.url_for(""), max_retries=0)).project_api.retrieve(5)
    assert info.value.server_message is None
    assert expected in str(info.value)


def test_credentials_in_the_url_are_redacted(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/imageinstance/5/download").respond_with_data(b"", status=403)
    api = ApiClient(Configuration(httpserver.url_for(""), max_retries=0))
    with pytest.raises(errors.PermissionDeniedError) as info:
        api.send("GET", "/api/imageinstance/5/download?authorization=eyJSECRET.TOKEN&format=png")
    assert "eyJSECRET" not in str(info.value) and "eyJSECRET" not in info.value.url
    assert "authorization=<redacted>&format=png" in info.value.url


def test_redirects_are_not_followed_blindly(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/project/5.json").respond_with_data(
        b"", status=301, headers={"Location": "https://elsewhere.example.org/api/project/5.json"})
    with pytest.raises(errors.APIStatusError) as info:
        ApiClient(Configuration(httpserver.url_for(""))).project_api.retrieve(5)
    assert info.value.status == 301
    assert "https://elsewhere.example.org" in str(info.value) and "host" in str(info.value)


def test_raw_access_still_available(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/project/5.json").respond_with_data(
        b'{"id": 5, "name": "P"}', headers={"X-Trace": "abc"}, content_type="application/json")
    api = ApiClient(Configuration(httpserver.url_for("")))
    info = api.project_api.with_raw_response.retrieve(5)
    assert info.status_code == 200 and info.headers["X-Trace"] == "abc"
    assert info.content == b'{"id": 5, "name": "P"}' and info.parse().name == "P"
    with api.project_api.with_streaming_response.retrieve(5) as raw:
        assert raw.status_code == 200 and raw.read() == b'{"id": 5, "name": "P"}'


def test_an_excerpt_of_a_body_never_shows_a_secret(httpserver: HTTPServer) -> None:
    # A legacy user's own JSON carries its private key; cut short, it cannot be parsed.
    httpserver.expect_request("/api/user/current.json").respond_with_data(
        b'{"id": 1, "username": "demo", "privateKey": "c8e14b27-63fd-s3cret", "publicKey": "pub", "created": ',
        content_type="application/json")
    api = ApiClient(Configuration(httpserver.url_for("")))
    with pytest.raises(errors.InvalidResponseError) as info:
        api.user_api.retrieve_current()
    assert "s3cret" not in str(info.value) and "<redacted>" in info.value.body_excerpt
