"""Downloads against a server (or proxy) that answers a resume wrongly: the 206 is of another
version, or another range. The answer is then discarded, on its own connection, and the download
starts over: the file is always one version, whole, never two spliced.
"""

from __future__ import annotations

import contextlib
import os
import re
from email.utils import formatdate
from pathlib import Path

import pytest

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.downloads import download_url
from tests.support.fault_server import Exchange, FaultServer

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
