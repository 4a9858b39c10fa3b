"""Streaming downloads: atomic, resumable with Range, checked, safe file names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.downloads import download_url, safe_filename
from cytomine_sdk.exceptions import APIConnectionError
from tests.support.file_server import FileServer

DATA = os.urandom(3 * 1024 * 1024 + 123)


def client(server: FileServer) -> ApiClient:
    return ApiClient(Configuration(server.url, max_retries=0))


def test_download_to_a_folder_uses_the_server_name(tmp_path: Path) -> None:
    with FileServer(DATA) as server:
        seen: list[tuple[int, int | None]] = []
        path = download_url(
            client(server),
            "/api/abstractimage/1/download",
            dest=tmp_path,
            on_progress=lambda done, total: seen.append((done, total)),
            chunk_size=1 << 20,
        )
    assert path == tmp_path / "slide.svs"
    assert path.read_bytes() == DATA
    assert seen[-1] == (len(DATA), len(DATA)) and len(seen) >= 4
    assert [p.name for p in tmp_path.iterdir()] == ["slide.svs"]  # no temporary file left


def test_dropped_connection_resumes_with_range(tmp_path: Path) -> None:
    with FileServer(DATA, drop_after=[2_500_000, 500_000]) as server:
        path = download_url(client(server), "/x", dest=tmp_path / "out.bin")
        ranges = [r.get("range") for r in server.requests]
        if_ranges = [r.get("if-range") for r in server.requests]
    assert path.read_bytes() == DATA  # byte-identical
    assert ranges[0] is None and ranges[1] is not None and ranges[1].startswith("bytes=")
    assert int(ranges[1][6:-1]) >= 2_500_000 - (1 << 20)  # resumed where it stopped, not from 0
    assert if_ranges[1] == '"v1"'
    assert len(server.requests) == 3


def test_server_without_range_support_restarts(tmp_path: Path) -> None:
    with FileServer(DATA, ranges=False, drop_after=[2_000_000]) as server:
        path = download_url(client(server), "/x", dest=tmp_path / "out.bin")
        assert [r.get("range") for r in server.requests] == [None, None]
    assert path.read_bytes() == DATA


def test_changed_file_restarts_from_the_beginning(tmp_path: Path) -> None:
    with FileServer(DATA, drop_after=[2_500_000]) as server:
        server.etag = '"v1"'
        original_handler_etag = server.etag

        def progress(done: int, total: int | None) -> None:
            if done >= 1_000_000:
                server.etag = '"v2"'  # the file changes on the server mid-download

        path = download_url(client(server), "/x", dest=tmp_path / "out.bin", on_progress=progress)
        assert server.requests[1].get("if-range") == original_handler_etag
    assert path.read_bytes() == DATA


def test_gives_up_after_max_resumes_and_leaves_nothing(tmp_path: Path) -> None:
    with (
        FileServer(DATA, drop_after=[100_000] * 10) as server,
        pytest.raises(APIConnectionError, match="interrupted 3 times"),
    ):
        download_url(client(server), "/x", dest=tmp_path / "out.bin", max_resumes=2)
    assert list(tmp_path.iterdir()) == []


def test_server_that_always_drops_without_ranges(tmp_path: Path) -> None:
    with FileServer(DATA, ranges=False, drop_after=[10] * 10) as server:
        with pytest.raises(APIConnectionError, match="interrupted 2 times"):
            download_url(client(server), "/x", dest=tmp_path / "out.bin", max_resumes=1)
        assert len(server.requests) == 2
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "slide.svs").write_bytes(b"mine")
    with FileServer(DATA) as server:
        with pytest.raises(FileExistsError, match="overwrite=True"):
            download_url(client(server), "/x", dest=tmp_path)
        assert (tmp_path / "slide.svs").read_bytes() == b"mine"
        download_url(client(server), "/x", dest=tmp_path, overwrite=True)
    assert (tmp_path / "slide.svs").read_bytes() == DATA


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("/abs/path.tif", "path.tif"),
        ("..", "download"),
        (".hidden", "hidden"),
        ("a\x00b\nc.svs", "abc.svs"),
        (None, "download"),
        ("x" * 300 + ".ndpi", "x" * 250 + ".ndpi"),
    ],
)
def test_server_file_names_cannot_escape(name: str | None, expected: str) -> None:
    assert safe_filename(name) == expected


def test_hostile_content_disposition_stays_in_folder(tmp_path: Path) -> None:
    with FileServer(DATA[:100], filename="../../evil.sh") as server:
        path = download_url(client(server), "/x", dest=tmp_path)
    assert path == tmp_path / "evil.sh"


def test_large_binary_answers_are_not_read_into_memory(tmp_path: Path) -> None:
    from cytomine_sdk.exceptions import ResponseTooLargeError

    with FileServer(DATA) as server:
        api = ApiClient(Configuration(server.url, max_binary_in_memory=1 << 20))
        response = api.call_api("GET", server.url + "/x")
        with pytest.raises(ResponseTooLargeError, match="max_binary_in_memory"):
            response.read()
        small = ApiClient(Configuration(server.url)).call_api("GET", server.url + "/x")
        assert small.read() == DATA


def test_download_any_binary_operation(tmp_path: Path) -> None:
    from cytomine_sdk.downloads import download
    from tests.support.stub import CytomineStub

    with CytomineStub("2025") as stub:
        api = ApiClient(Configuration(stub.host, public_key=stub.public_key, private_key=stub.private_key))
        attached = api.attached_file_api.upload(
            domain_ident=100, domain_class_name="be.cytomine.domain.project.Project", files=("a.bin", DATA[:5000])
        )
        path = download(api.attached_file_api.download, attached.id, dest=tmp_path)
        assert path.read_bytes() == DATA[:5000]
        assert path.parent == tmp_path
        with pytest.raises(TypeError, match="binary operation"):
            download(print, dest=tmp_path)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="_headers"):
            download(api.attached_file_api.download, attached.id, dest=tmp_path, _headers={})
