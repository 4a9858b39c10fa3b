"""Streaming downloads: atomic, resumable with Range, checked, safe file names."""

from __future__ import annotations

import itertools
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


def part_size(folder: Path) -> int:
    """The size of the one part file (hidden, ends with .part) a stopped download left in `folder`."""
    parts = [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".part")]
    assert len(parts) == 1, [p.name for p in folder.iterdir()]
    return parts[0].stat().st_size


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


def test_gives_up_after_max_resumes_and_the_next_call_resumes(tmp_path: Path) -> None:
    with FileServer(DATA, drop_after=[100_000] * 3) as server:
        with pytest.raises(APIConnectionError, match="interrupted 3 times"):
            download_url(client(server), "/x", dest=tmp_path / "out.bin", max_resumes=2, chunk_size=1 << 16)
        assert not (tmp_path / "out.bin").exists()
        kept = part_size(tmp_path)
        assert kept >= 3 * (1 << 16)  # what arrived is kept for the next call
        path = download_url(client(server), "/x", dest=tmp_path / "out.bin")
        assert server.requests[-1].get("range") == f"bytes={kept}-"
        assert server.requests[-1].get("if-range") == '"v1"'
    assert path.read_bytes() == DATA
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


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
        ("x" * 300 + ".ndpi", "x" * 235 + ".ndpi"),  # 240 bytes: room for ".{name}.XXXXXXXX.part"
        ("é" * 200 + ".svs", "é" * 118 + ".svs"),
        ("日" * 100 + ".ome.tiff", "日" * 77 + ".ome.tiff"),  # cut on a character, double extension kept
        ("scan\u202efdp.svs", "scanfdp.svs"),  # RIGHT-TO-LEFT OVERRIDE: would show "scansvs.pdf"
        ("\ufeffa\u200eb\u200fc\u202a\u2066d\u2069\u061c\u00ad.tif", "abcd.tif"),
        ("a\u2028b\x85.svs", "ab.svs"),
        ("\u202e", "download"),
    ],
)
def test_server_file_names_cannot_escape(name: str | None, expected: str) -> None:
    assert safe_filename(name) == expected
    assert len(safe_filename(name).encode()) <= 240


def test_hostile_content_disposition_stays_in_folder(tmp_path: Path) -> None:
    with FileServer(DATA[:100], filename="../../evil.sh") as server:
        path = download_url(client(server), "/x", dest=tmp_path)
    assert path == tmp_path / "evil.sh"


def test_large_binary_answers_are_not_read_into_memory(tmp_path: Path) -> None:
    from cytomine_sdk.exceptions import ResponseTooLargeError

    with FileServer(DATA) as server:
        api = ApiClient(Configuration(server.url, max_binary_in_memory=1 << 20))
        with pytest.raises(ResponseTooLargeError, match="max_binary_in_memory"):
            api.fetch("GET", server.url + "/x", binary=True)
        assert api.attached_file_api.with_streaming_response.download(1).read() == DATA
        small = ApiClient(Configuration(server.url)).fetch("GET", server.url + "/x", binary=True)
        assert small.content == DATA


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
        with pytest.raises(TypeError, match="extra_headers"):
            download(api.attached_file_api.download, attached.id, dest=tmp_path, extra_headers={})


V2 = bytes(b ^ 0xFF for b in DATA)  # another version of the file, of the same size


@pytest.mark.parametrize(
    "name",
    ["a" * 250 + ".svs", "é" * 130 + ".ome.tiff", "scan\u202efdp.svs"],
    ids=["ascii-254-bytes", "multibyte-269-bytes", "bidi-override"],
)
def test_long_and_bidi_server_names_download(name: str, tmp_path: Path) -> None:
    with FileServer(DATA, filename=name, drop_after=[1_500_000]) as server:
        path = download_url(client(server), "/x", dest=tmp_path, chunk_size=1 << 16)
        assert server.requests[1].get("range") is not None  # the part file took a resume too
    assert path.name == safe_filename(name)
    assert len(path.name.encode()) <= 240 and path.suffix == Path(name).suffix
    assert "\u202e" not in path.name
    assert path.read_bytes() == DATA
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_long_name_chosen_by_the_caller_is_kept(tmp_path: Path) -> None:
    dest = tmp_path / ("b" * 251 + ".bin")  # 255 bytes: its part file needs a shorter name
    with FileServer(DATA, drop_after=[1_500_000]) as server:
        with pytest.raises(APIConnectionError):
            download_url(client(server), "/x", dest=dest, chunk_size=1 << 16, max_resumes=0)
        kept = part_size(tmp_path)
        path = download_url(client(server), "/x", dest=dest)
        assert server.requests[-1].get("range") == f"bytes={kept}-"
    assert path == dest and path.read_bytes() == DATA
    assert [p.name for p in tmp_path.iterdir()] == [dest.name]


def test_server_ignoring_if_range_cannot_splice_two_versions(tmp_path: Path) -> None:
    with FileServer(DATA, drop_after=[2_500_000], if_range=False) as server:

        def new_version(done: int, total: int | None) -> None:
            if done >= 1_000_000:
                server.data, server.etag = V2, '"v2"'

        path = download_url(client(server), "/x", dest=tmp_path / "out.bin", on_progress=new_version)
        ranges = [r.get("range") for r in server.requests]
    assert path.read_bytes() == V2  # the new version, whole: never v1[:n] + v2[n:]
    assert ranges[0] is None and ranges[1] is not None and ranges[2] is None


@pytest.mark.parametrize(
    ("etag", "last_modified", "if_range"),
    [
        ('W/"v1"', None, None),  # a weak ETag cannot validate a range (RFC 9110 13.1.5): restart
        ('W/"v1"', "Mon, 01 Jan 2024 00:00:00 GMT", "Mon, 01 Jan 2024 00:00:00 GMT"),
        (None, "Mon, 01 Jan 2024 00:00:00 GMT", "Mon, 01 Jan 2024 00:00:00 GMT"),
        (None, None, None),
    ],
)
def test_only_strong_validators_resume(
    etag: str | None, last_modified: str | None, if_range: str | None, tmp_path: Path
) -> None:
    with FileServer(DATA, etag=etag, last_modified=last_modified, drop_after=[2_000_000]) as server:
        path = download_url(client(server), "/x", dest=tmp_path / "out.bin")
        second = server.requests[1]
    assert second.get("if-range") == if_range
    assert (second.get("range") is None) == (if_range is None)
    assert path.read_bytes() == DATA


def test_last_modified_just_now_is_too_weak_to_resume(tmp_path: Path) -> None:
    from email.utils import formatdate

    with FileServer(DATA, etag=None, last_modified=formatdate(usegmt=True), drop_after=[2_000_000]) as server:
        path = download_url(client(server), "/x", dest=tmp_path / "out.bin")
        assert [r.get("range") for r in server.requests] == [None, None]
    assert path.read_bytes() == DATA


def test_interrupted_download_keeps_its_part_and_the_next_call_resumes(tmp_path: Path) -> None:
    def interrupt(done: int, total: int | None) -> None:
        if done >= 1_000_000:
            raise KeyboardInterrupt

    with FileServer(DATA) as server:
        with pytest.raises(KeyboardInterrupt):
            download_url(client(server), "/x", dest=tmp_path, chunk_size=1 << 18, on_progress=interrupt)
        assert not (tmp_path / "slide.svs").exists()
        kept = part_size(tmp_path)
        assert kept >= 1_000_000
        seen: list[tuple[int, int | None]] = []
        path = download_url(client(server), "/x", dest=tmp_path, on_progress=lambda *a: seen.append(a))
        assert server.requests[-1].get("range") == f"bytes={kept}-"
        assert server.requests[-1].get("if-range") == '"v1"'
    assert path == tmp_path / "slide.svs" and path.read_bytes() == DATA
    assert seen[0][0] >= kept and seen[-1] == (len(DATA), len(DATA))
    assert [p.name for p in tmp_path.iterdir()] == ["slide.svs"]


@pytest.mark.parametrize("honours_if_range", [True, False])
def test_stale_part_of_another_version_is_replaced(honours_if_range: bool, tmp_path: Path) -> None:
    with FileServer(DATA, drop_after=[1_500_000], if_range=honours_if_range) as server:
        with pytest.raises(APIConnectionError):
            download_url(client(server), "/x", dest=tmp_path / "out.bin", chunk_size=1 << 16, max_resumes=0)
        assert part_size(tmp_path) > 0
        server.data, server.etag = V2, '"v2"'  # the file changed on the server since
        path = download_url(client(server), "/x", dest=tmp_path / "out.bin")
        assert server.requests[1].get("if-range") == '"v1"'
    assert path.read_bytes() == V2
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_killed_process_leaves_a_part_that_the_next_download_resumes(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.support.fault_server import wait_for

    stall = 16 * (1 << 16)
    dest = tmp_path / "out.bin"
    code = (
        "import sys\n"
        "from cytomine_sdk import ApiClient, Configuration\n"
        "from cytomine_sdk.downloads import download_url\n"
        "api = ApiClient(Configuration(sys.argv[1], max_retries=0))\n"
        "download_url(api, '/x', dest=sys.argv[2], chunk_size=1 << 16)\n"
    )
    with FileServer(DATA, stall_after=[stall]) as server:
        proc = subprocess.Popen([sys.executable, "-c", code, server.url, str(dest)])
        try:
            assert server.stalled.wait(30)
            wait_for(lambda: any(p.suffix == ".part" and p.stat().st_size == stall for p in tmp_path.iterdir()))
        finally:
            proc.kill()  # SIGKILL: no handler, no cleanup
            proc.wait()
        server.release.set()
        assert part_size(tmp_path) == stall
        path = download_url(client(server), "/x", dest=dest)
        assert server.requests[-1].get("range") == f"bytes={stall}-"
    assert path.read_bytes() == DATA
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_concurrent_downloads_of_the_same_target_do_not_share_a_part(tmp_path: Path) -> None:
    import threading

    from cytomine_sdk.downloads import DownloadInProgressError
    from tests.support.fault_server import wait_for

    results: list[object] = []
    with FileServer(DATA, stall_after=[1 << 20]) as server:
        first = threading.Thread(
            target=lambda: results.append(download_url(client(server), "/x", dest=tmp_path, chunk_size=1 << 16))
        )
        first.start()
        try:
            wait_for(lambda: (tmp_path / ".slide.svs.part").exists() and part_size(tmp_path) == 1 << 20)
            with pytest.raises(DownloadInProgressError, match=r"slide\.svs"):
                download_url(client(server), "/x", dest=tmp_path / "slide.svs", overwrite=True)
            with pytest.raises(DownloadInProgressError):
                download_url(client(server), "/x", dest=tmp_path)  # the same target, by its server name
        finally:
            server.release.set()
            first.join(10)
        with pytest.raises(FileExistsError):  # the first one is done now
            download_url(client(server), "/x", dest=tmp_path / "slide.svs")
    assert results == [tmp_path / "slide.svs"]
    assert (tmp_path / "slide.svs").read_bytes() == DATA
    assert [p.name for p in tmp_path.iterdir()] == ["slide.svs"]


def test_without_file_locks_a_download_uses_a_private_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    fcntl = pytest.importorskip("fcntl")

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")  # e.g. NFS without a lock daemon

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with FileServer(DATA, drop_after=[1_500_000]) as server:
        path = download_url(client(server), "/x", dest=tmp_path / "out.bin", chunk_size=1 << 16)
        assert path.read_bytes() == DATA
        assert server.requests[1].get("range") is not None  # resumes within the call still
        server.drop_after.append(1_000)
        with pytest.raises(APIConnectionError):
            download_url(client(server), "/x", dest=tmp_path / "b.bin", chunk_size=1 << 8, max_resumes=0)
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]  # no part it could not protect


def test_part_without_metadata_is_removed(tmp_path: Path) -> None:
    (tmp_path / ".out.bin.part").write_bytes(b"left by something else")  # nothing to validate it
    with FileServer(DATA) as server:
        path = download_url(client(server), "/x", dest=tmp_path / "out.bin")
        assert [r.get("range") for r in server.requests] == [None]
    assert path.read_bytes() == DATA
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_plain_body_is_read_into_one_buffer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib3.response

    def no_stream(*args: object, **kwargs: object) -> None:
        raise AssertionError("urllib3's stream allocates every chunk anew (page faults, a larger peak RSS)")

    monkeypatch.setattr(urllib3.response.HTTPResponse, "stream", no_stream)
    with FileServer(DATA, drop_after=[1_500_000]) as server:
        seen: list[int] = []
        path = download_url(client(server), "/x", dest=tmp_path / "out.bin", chunk_size=1 << 16,
                            on_progress=lambda done, total: seen.append(done))
    assert path.read_bytes() == DATA
    assert all(0 < b - a <= 1 << 16 for a, b in itertools.pairwise(seen))  # chunks of at most chunk_size
