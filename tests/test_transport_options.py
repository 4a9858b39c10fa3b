"""TLS verification (on by default, custom CA bundle) and HTTP proxies, on loopback only."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.exceptions import APIConnectionError

PROJECT = b'{"id": 1, "name": "P"}'


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key),
         "-out", str(cert), "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.fixture
def https_server(certificate: tuple[Path, Path]) -> Iterator[HTTPServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = HTTPServer(ssl_context=context)
    server.start()
    server.expect_request("/api/project/1.json").respond_with_data(PROJECT, content_type="application/json")
    yield server
    server.clear()
    server.stop()


def test_tls_is_verified_by_default(https_server: HTTPServer) -> None:
    api = ApiClient(Configuration(https_server.url_for(""), max_retries=0))
    with pytest.raises(APIConnectionError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        api.project_api.retrieve(1)


def test_custom_ca_bundle(https_server: HTTPServer, certificate: tuple[Path, Path]) -> None:
    api = ApiClient(Configuration(https_server.url_for(""), ssl_ca_cert=str(certificate[0])))
    assert https_server.url_for("").startswith("https://")
    assert api.project_api.retrieve(1).name == "P"


def test_verification_can_be_turned_off(https_server: HTTPServer) -> None:
    api = ApiClient(Configuration(https_server.url_for(""), verify_ssl=False))
    with pytest.warns(Warning):  # urllib3 warns about unverified HTTPS
        assert api.project_api.retrieve(1).name == "P"


def test_requests_go_through_the_proxy(httpserver: HTTPServer) -> None:
    # The "proxy" is a loopback server answering for the target: the target is never resolved.
    httpserver.expect_request("/api/project/1.json").respond_with_data(PROJECT, content_type="application/json")
    api = ApiClient(Configuration("http://cytomine.invalid", proxy=httpserver.url_for("")))
    assert api.project_api.retrieve(1).name == "P"
    request, _ = httpserver.log[-1]
    assert request.headers["Host"] == "cytomine.invalid"
