"""Slide uploads to PIMS: streamed multipart `files[]`, signed, errors surfaced, conversion awaited."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.exceptions import BadRequestError
from cytomine_sdk.multipart import MultipartBody
from cytomine_sdk.uploads import UploadError, UploadTimeoutError, upload_image
from tests.support.server_auth import authenticate

PUB, PRIV = "pub", "priv"
CONTENT = os.urandom(3 * 1024 * 1024 + 17)


@pytest.fixture
def slide(tmp_path: Path) -> Path:
    path = tmp_path / "biopsy 01.svs"
    path.write_bytes(CONTENT)
    return path


def api(httpserver: HTTPServer, **config: object) -> ApiClient:
    return ApiClient(Configuration(httpserver.url_for(""), public_key=PUB, private_key=PRIV,
                                   **config))  # type: ignore[arg-type]


def pims(received: list[dict[str, object]], status: int = 200) -> object:
    def handler(request: Request) -> Response:
        caller = authenticate(generation="2026", method="POST", raw_target=request.environ["RAW_URI"],
                              headers=dict(request.headers), private_key_for={PUB: PRIV}.get)
        upload = request.files.get("files[]")
        received.append({"caller": caller, "args": dict(request.args), "file": upload.read() if upload else None,
                         "filename": upload.filename if upload else None,
                         "content_type": request.headers["Content-Type"]})
        if caller is None:
            return Response(b"", status=401)
        body = [{"status": 200, "name": "biopsy 01.svs", "size": len(CONTENT),
                 "uploadedFile": {"id": 77, "status": 0, "originalFilename": "biopsy 01.svs"}, "images": []}]
        return Response(json.dumps(body), status=status, content_type="application/json")
    return handler


def test_upload_streams_the_file_signed(httpserver: HTTPServer, slide: Path) -> None:
    received: list[dict[str, object]] = []
    httpserver.expect_request("/upload", method="POST").respond_with_handler(pims(received))
    sent: list[tuple[int, int | None]] = []
    result = upload_image(api(httpserver), slide, storage=3, projects=[42, 43], properties={"scanner": "S360"},
                          on_progress=lambda done, total: sent.append((done, total)))
    (request,) = received
    assert request["caller"] == PUB
    assert request["file"] == CONTENT and request["filename"] == "biopsy 01.svs"
    assert str(request["content_type"]).startswith("multipart/form-data; boundary=")
    assert request["args"] == {"storage": "3", "idStorage": "3", "projects": "42,43", "idProject": "42,43",
                               "keys": "scanner", "values": "S360"}
    assert result.uploaded_file.id == 77 and result.status == "UPLOADED"
    assert sent[-1][0] >= len(CONTENT) and sent[-1][1] == len(CONTENT)


def test_upload_to_ims_deployment_and_pims_url(httpserver: HTTPServer, slide: Path) -> None:
    received: list[dict[str, object]] = []
    httpserver.expect_request("/ims/upload", method="POST").respond_with_handler(pims(received))
    httpserver.expect_request("/pims/upload", method="POST").respond_with_handler(pims(received))
    upload_image(api(httpserver), slide, storage=3, ims=True)
    upload_image(api(httpserver, pims_url=httpserver.url_for("/pims")), slide, storage=3)
    assert [r["caller"] for r in received] == [PUB, PUB]


def test_server_error_message_is_surfaced(httpserver: HTTPServer, slide: Path) -> None:
    body = [{"status": 500, "error": "Unsupported file format", "files": [{"size": 0, "error": "x"}]}]
    httpserver.expect_request("/upload", method="POST").respond_with_json(body, status=400)
    with pytest.raises(BadRequestError, match="Unsupported file format"):
        upload_image(api(httpserver), slide, storage=3)


def test_wait_for_conversion(httpserver: HTTPServer, slide: Path) -> None:
    httpserver.expect_request("/upload", method="POST").respond_with_handler(pims([]))
    statuses = iter([10, 30, 40, 100])
    httpserver.expect_request("/api/uploadedfile/77.json").respond_with_handler(
        lambda r: Response(json.dumps({"id": 77, "status": next(statuses)}), content_type="application/json"))
    result = upload_image(api(httpserver), slide, storage=3, wait=True, poll_interval=0.01)
    assert result.status == "DEPLOYED"


@pytest.mark.parametrize(("status", "name"), [
    (31, "ERROR_CONVERSION"), (11, "ERROR_FORMAT"), (51, "ERROR_UNPACKING"), (61, "ERROR_INTEGRITY"),
    (71, "71"),  # a failure code newer than the SDK: odd below 100, not polled until the deadline
    (4, "ERROR_CONVERSION"), (8, "ERROR_DEPLOYMENT"),  # legacy
])
def test_wait_raises_on_error_status(httpserver: HTTPServer, slide: Path, status: int, name: str) -> None:
    httpserver.expect_request("/upload", method="POST").respond_with_handler(pims([]))
    httpserver.expect_request("/api/uploadedfile/77.json").respond_with_json({"id": 77, "status": status})
    with pytest.raises(UploadError, match=name):  # at once, not at the deadline
        upload_image(api(httpserver), slide, storage=3, wait=True, wait_timeout=2, poll_interval=0.01)


@pytest.mark.parametrize("final", [106, 102, 104, 2])
def test_wait_ends_on_every_final_status(httpserver: HTTPServer, slide: Path, final: int) -> None:
    # 106: an archive unpacked into its files; 2: legacy DEPLOYED.
    httpserver.expect_request("/upload", method="POST").respond_with_handler(pims([]))
    httpserver.expect_request("/api/uploadedfile/77.json").respond_with_json({"id": 77, "status": final})
    result = upload_image(api(httpserver), slide, storage=3, wait=True, wait_timeout=5, poll_interval=0.01)
    assert result.status is not None


def test_wait_has_a_deadline(httpserver: HTTPServer, slide: Path) -> None:
    httpserver.expect_request("/upload", method="POST").respond_with_handler(pims([]))
    httpserver.expect_request("/api/uploadedfile/77.json").respond_with_json({"id": 77, "status": 30})
    with pytest.raises(UploadTimeoutError, match="CONVERTING"):
        upload_image(api(httpserver), slide, storage=3, wait=True, wait_timeout=0.2, poll_interval=0.05)


def test_bad_arguments_fail_before_any_request(httpserver: HTTPServer, slide: Path, tmp_path: Path) -> None:
    client = api(httpserver)
    with pytest.raises(FileNotFoundError, match="path"):
        upload_image(client, tmp_path / "missing.svs", storage=3)
    with pytest.raises(ValueError, match="storage"):
        upload_image(client, slide, storage=0)
    with pytest.raises(ValueError, match="projects"):
        upload_image(client, slide, storage=3, projects=["42"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="properties"):
        upload_image(client, slide, storage=3, properties={"a,b": "c"})
    assert httpserver.log == []


def test_multipart_body_streams_and_rewinds(tmp_path: Path) -> None:
    file = tmp_path / "data.bin"
    file.write_bytes(CONTENT)
    body = MultipartBody([("files[]", file), ("note", "é")])
    first = b"".join(iter(lambda: body.read(64 * 1024), b""))
    assert len(first) == len(body)
    body.seek(0)
    assert body.read() == first
    assert first.count(f"--{body.boundary}".encode()) == 3
    assert CONTENT in first and b'name="note"\r\n\r\n\xc3\xa9' in first
    with pytest.raises(io.UnsupportedOperation):
        body.seek(10)


def test_pims_is_signed_with_its_own_scheme_whatever_the_core(httpserver: HTTPServer, slide: Path) -> None:
    received: list[dict[str, object]] = []
    httpserver.expect_request("/upload", method="POST").respond_with_handler(pims(received))
    client = api(httpserver, signature="2025")  # a 2025 core; PIMS checks the 2026 string
    upload_image(client, slide, storage=3)
    assert [r["caller"] for r in received] == [PUB]
    assert client.generation == "2025"
