"""Downloads against a server (or proxy) that answers a resume wrongly: the 206 is of another
version, or another range. The answer is then discarded, on its own connection, and the download
starts over: the file is always one version, whole, never two spliced.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path

import pytest

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.downloads import download_url
from cytomine_sdk.exceptions import APIConnectionError
from tests.support.fault_server import Exchange, FaultServer, RawRequest

V1 = os.urandom(200_000)
V2 = bytes(b ^ 0x5A for b in V1)  # the same size: only the validator tells them apart
CUT = 120_000
OLD = "Mon, 01 Jan 2024 00:00:00 GMT"
NEWER = "Tue, 02 Jan 2024 00:00:00 GMT"


def download(server: FaultServer, dest: Path) -> Path:
    api = ApiClient(Configuration(server.url, max_retries=0))
    return download_url(api, "/api/abstractimage/1/download", dest=dest, chunk_size=1 << 12)


def serve(first: dict[str, str], resume: dict[str, str], content_range: str, then: bytes) -> FaultServer:
    """Answer 0: V1 with `first` validators, cut at CUT. Answer 1 (the resume): a 206 with
    `resume` validators and `content_range` ({start}, {total} filled in). Answer 2: `then`, whole."""
    first = {"Date": formatdate(usegmt=True), **first}  # Last-Modified is strong a minute before it

    def script(ex: Exchange) -> None:
        if ex.index == 0:
            ex.send_head(200, {"Content-Length": str(len(V1)), "Accept-Ranges": "bytes", **first})
            ex.send_raw(V1[:CUT])
            ex.close()
        elif ex.index == 1:
            match = re.fullmatch(r"bytes=(\d+)-", ex.request.header("range"))
            assert match, ex.request.headers
            start = int(match.group(1))
            body = V2[start:]
            ex.send_head(206, {"Content-Length": str(len(body)), "Accept-Ranges": "bytes",
                               "Content-Range": content_range.format(start=start, total=len(V1)), **resume})
            with contextlib.suppress(OSError):  # the client closed it unread: what it should do
                ex.send_raw(body)
        else:
            validators = resume if then is V2 else first
            ex.respond(200, then, headers={"Accept-Ranges": "bytes", **validators},
                       content_type="application/octet-stream")

    return FaultServer(script)


@pytest.mark.parametrize(
    ("first", "resume"),
    [
        ({"ETag": '"v1"'}, {"ETag": '"v2"'}),
        ({"ETag": '"v1"'}, {"ETag": 'W/"v1"'}),  # weak: never equal in a strong comparison
        ({"ETag": '"v1"'}, {}),  # a proxy that dropped the ETag
        ({"Last-Modified": OLD}, {"Last-Modified": NEWER}),
        ({"Last-Modified": OLD}, {}),
    ],
    ids=["other-etag", "weak-etag", "no-etag", "other-last-modified", "no-last-modified"],
)
def test_206_of_another_version_is_discarded(first: dict[str, str], resume: dict[str, str], tmp_path: Path) -> None:
    with serve(first, resume, "bytes {start}-199999/{total}", V2) as server:
        path = download(server, tmp_path / "out.bin")
        requests = server.requests
        assert requests[1].header("if-range") == (first.get("ETag") or first.get("Last-Modified"))
        assert len(requests) == 3 and requests[2].header("range") == ""  # started over
        assert requests[2].connection != requests[1].connection  # the unread 206 was not reused
    assert path.read_bytes() == V2
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


@pytest.mark.parametrize(
    "content_range",
    [
        "bytes {start}-{start}/{total}",  # less than asked for
        "bytes 0-199999/{total}",  # from another offset
        "bytes {start}-200000/200001",  # of another size
        "bytes {start}-199999/*",  # of an unknown size
        "",  # none at all
    ],
    ids=["short", "other-start", "other-total", "unknown-total", "missing"],
)
def test_206_of_another_range_is_discarded(content_range: str, tmp_path: Path) -> None:
    with serve({"ETag": '"v1"'}, {"ETag": '"v1"'}, content_range, V1) as server:
        path = download(server, tmp_path / "out.bin")
        requests = server.requests
        assert len(requests) == 3 and requests[2].header("range") == ""
        assert requests[2].connection != requests[1].connection
    assert path.read_bytes() == V1
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_matching_206_is_appended(tmp_path: Path) -> None:
    def script(ex: Exchange) -> None:
        if ex.index == 0:
            ex.send_head(200, {"Content-Length": str(len(V1)), "Accept-Ranges": "bytes", "ETag": '"v1"'})
            ex.send_raw(V1[:CUT])
            ex.close()
        else:
            start = int(ex.request.header("range")[len("bytes="):-1])
            ex.respond(206, V1[start:], headers={"ETag": '"v1"', "Content-Range": f"bytes {start}-199999/200000"},
                       content_type="application/octet-stream")

    with FaultServer(script) as server:
        path = download(server, tmp_path / "out.bin")
        assert len(server.requests) == 2 and server.requests[1].header("range") != "bytes=0-"
    assert path.read_bytes() == V1


# The body is read from the socket into one reused buffer, under urllib3 (see downloads._chunks):
# what urllib3's own read did for the download loop must still happen, i.e. its errors, its
# closing of a broken connection, its check of the announced length, chunked and compressed bodies.


def _cut_then_whole(cut: Callable[[Exchange], None]) -> FaultServer:
    """Answer 0: the head of V1 and CUT bytes, then `cut` ends it. Later answers: the rest, as
    the Range asks."""

    def script(ex: Exchange) -> None:
        if ex.index == 0:
            ex.send_head(200, {"Content-Length": str(len(V1)), "Accept-Ranges": "bytes", "ETag": '"v1"'})
            ex.send_raw(V1[:CUT])
            cut(ex)
        else:
            start = int(ex.request.header("range")[len("bytes="):-1])
            ex.respond(206, V1[start:], headers={"ETag": '"v1"', "Content-Range": f"bytes {start}-199999/200000"},
                       content_type="application/octet-stream")

    return FaultServer(script)


def resumed_near_cut(request: RawRequest) -> bool:
    """The resume asks for the rest from where the cut was, less at most the chunk being read
    when it came (4 KiB here): that chunk's bytes are lost with the connection, as with urllib3."""
    start = int(request.header("range")[len("bytes="):-1])
    return CUT - (1 << 12) < start <= CUT


def test_reset_mid_body_resumes_on_a_new_connection(tmp_path: Path) -> None:
    with _cut_then_whole(lambda ex: ex.reset()) as server:
        path = download(server, tmp_path / "out.bin")
        requests = server.requests
    assert path.read_bytes() == V1
    assert len(requests) == 2 and resumed_near_cut(requests[1])
    assert requests[1].connection != requests[0].connection


def test_stalled_body_times_out_as_urllib3_does_and_resumes(tmp_path: Path) -> None:
    stalled: list[Exchange] = []
    with _cut_then_whole(lambda ex: stalled.append(ex)) as server:  # head and CUT bytes, then silence
        api = ApiClient(Configuration(server.url, max_retries=0, read_timeout=0.3))
        with pytest.raises(APIConnectionError, match="ReadTimeoutError"):
            download_url(api, "/x", dest=tmp_path / "out.bin", chunk_size=1 << 12, max_resumes=0)
        assert len(server.requests) == 1
        path = download_url(api, "/x", dest=tmp_path / "out.bin", chunk_size=1 << 12)
        assert resumed_near_cut(server.requests[1])
        assert server.requests[1].connection != server.requests[0].connection  # the stalled one was closed
    assert path.read_bytes() == V1


def test_body_shorter_than_announced_is_not_taken_as_complete(tmp_path: Path) -> None:
    def script(ex: Exchange) -> None:
        ex.send_head(200, {"Content-Length": str(len(V1))})  # no ranges: every drop starts over
        ex.send_raw(V1[:CUT] if ex.index == 0 else V1)
        if ex.index == 0:
            ex.close()  # a clean FIN: only the length tells the body is cut

    with FaultServer(script) as server:
        path = download(server, tmp_path / "out.bin")
        assert len(server.requests) == 2
    assert path.read_bytes() == V1


@pytest.mark.parametrize("complete", [True, False])
def test_chunked_body(complete: bool, tmp_path: Path) -> None:
    def script(ex: Exchange) -> None:
        ex.send_head(200, {"Transfer-Encoding": "chunked"})
        for start in range(0, len(V1), 70_000):
            piece = V1[start : start + 70_000]
            ex.send_raw(b"%x\r\n%s\r\n" % (len(piece), piece))
            if not complete and ex.index == 0:
                ex.close()  # cut before its last chunk: no size, no ranges, so it starts over
                return
        ex.send_raw(b"0\r\n\r\n")

    with FaultServer(script) as server:
        path = download(server, tmp_path / "out.bin")
        assert len(server.requests) == (1 if complete else 2)
    assert path.read_bytes() == V1


def test_compressed_body_is_written_decoded(tmp_path: Path) -> None:
    import gzip

    def script(ex: Exchange) -> None:
        ex.respond(200, gzip.compress(V1), headers={"Content-Encoding": "gzip"},
                   content_type="application/octet-stream")

    with FaultServer(script) as server:
        path = download(server, tmp_path / "out.bin")
    assert path.read_bytes() == V1
