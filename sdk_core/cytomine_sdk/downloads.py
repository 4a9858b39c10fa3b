"""Streaming downloads to disk: constant memory, atomic, resumable, checked.

    from cytomine_sdk.downloads import download

    path = download(api_client.abstract_image_api.download, 1234, dest="slides/")

`download` takes any binary operation of the client (its arguments follow) or, with
`download_url`, any URL below the host. The body is streamed in chunks to a temporary file in the
target folder and renamed only once complete and checked against Content-Length, so no partial
file is ever left under the final name. A dropped connection resumes with a Range request when the
server supports it (validated with If-Range: the ETag or Last-Modified of the first answer);
otherwise the transfer restarts from the beginning.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any

import urllib3
from urllib3.exceptions import HTTPError

from cytomine_sdk.exceptions import APIConnectionError, APIStatusError, CytomineError
from cytomine_sdk.progress import Progress, ProgressCallback

if TYPE_CHECKING:
    from cytomine_sdk.client import ApiClient

CHUNK_SIZE = 1 << 20  # measured: 256 KiB reads halve the speed; a drop loses at most a chunk
MAX_RESUMES = 5
Fetch = Callable[[dict[str, str]], urllib3.BaseHTTPResponse]


class IncompleteDownloadError(CytomineError):
    """The server sent fewer (or more) bytes than it announced."""


def safe_filename(name: str | None, fallback: str = "download") -> str:
    """A server-supplied file name reduced to a plain name that cannot leave its folder."""
    if not name:
        return fallback
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    if name in ("", ".", ".."):
        return fallback
    if len(name.encode("utf-8")) > 255:  # most file systems' limit, in bytes; keep the extension
        base, dot, ext = name.rpartition(".")
        suffix = f".{ext}" if dot and base and len(ext) < 16 else ""
        stem = base if suffix else name
        name = stem.encode("utf-8")[: 255 - len(suffix.encode())].decode("utf-8", "ignore") + suffix
    return name


def filename_from_headers(headers: Any) -> str | None:
    """The file name of a Content-Disposition header (RFC 6266/2231 forms included), if any."""
    value = headers.get("Content-Disposition")
    if not value:
        return None
    message = Message()
    message["content-disposition"] = value
    return message.get_filename()


def download(
    method: Callable[..., Any],
    /,
    *args: Any,
    dest: str | os.PathLike[str],
    overwrite: bool = False,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK_SIZE,
    max_resumes: int = MAX_RESUMES,
    **kwargs: Any,
) -> Path:
    """Stream the answer of a binary operation (e.g. ``api_client.abstract_image_api.download``)
    to `dest` and return the path written.

    Args:
        method: a binary operation of the client; `args`/`kwargs` are its arguments.
        dest: a file path, or an existing folder (the server's file name is used, sanitised).
        overwrite: replace an existing file (otherwise FileExistsError, before anything is written).
        progress: show a tqdm progress bar (the `progress` extra).
        on_progress: called with (bytes written, total bytes or None) as the download goes.
        chunk_size: bytes read at a time (memory use stays about this size).
        max_resumes: how many dropped connections are resumed before giving up.
    """
    api = getattr(method, "__self__", None)
    raw = getattr(api, f"{getattr(method, '__name__', '')}_without_preload_content", None)
    if raw is None:
        raise TypeError(f"method: expected a binary operation of an API client, got {method!r}")
    if "_headers" in kwargs:
        raise TypeError("_headers: set by download itself")

    def fetch(headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
        response: urllib3.BaseHTTPResponse = raw(*args, _headers=headers, **kwargs)
        return response

    return _stream_to_file(fetch, Path(dest), overwrite, progress, on_progress, chunk_size, max_resumes)


def download_url(
    api_client: ApiClient,
    url: str,
    *,
    dest: str | os.PathLike[str],
    overwrite: bool = False,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK_SIZE,
    max_resumes: int = MAX_RESUMES,
) -> Path:
    """Like `download`, for a URL (absolute, or a path below the host), signed as any request."""

    def fetch(headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
        return api_client.send("GET", url, headers=headers)

    return _stream_to_file(fetch, Path(dest), overwrite, progress, on_progress, chunk_size, max_resumes)


def _content_length(resp: urllib3.BaseHTTPResponse) -> int | None:
    value = resp.headers.get("Content-Length")
    if value is None or resp.headers.get("Content-Encoding", "identity") != "identity":
        return None  # unknown, or the size of the compressed body
    return int(value) if value.isdigit() else None


def _range_start(resp: urllib3.BaseHTTPResponse) -> tuple[int, int | None] | None:
    """(first byte, total) of a 206 answer's Content-Range, or None."""
    match = re.fullmatch(r"bytes (\d+)-\d+/(\d+|\*)", resp.headers.get("Content-Range", "").strip())
    if not match:
        return None
    return int(match.group(1)), None if match.group(2) == "*" else int(match.group(2))


def _target(dest: Path, resp: urllib3.BaseHTTPResponse) -> Path:
    if dest.is_dir():
        return dest / safe_filename(filename_from_headers(resp.headers))
    if not dest.parent.is_dir():
        raise FileNotFoundError(f"dest: folder {dest.parent} does not exist")
    return dest


def _stream_to_file(
    fetch: Fetch,
    dest: Path,
    overwrite: bool,
    progress: bool,
    on_progress: ProgressCallback | None,
    chunk_size: int,
    max_resumes: int,
) -> Path:
    if chunk_size < 1:
        raise ValueError(f"chunk_size: expected a positive number of bytes, got {chunk_size!r}")
    if not dest.is_dir() and dest.exists() and not overwrite:
        raise FileExistsError(f"dest: {dest} exists; pass overwrite=True to replace it")
    resp = fetch({})
    try:
        target = _target(dest, resp)
        if target.exists() and not overwrite:
            raise FileExistsError(f"dest: {target} exists; pass overwrite=True to replace it")
    except BaseException:
        _discard(resp)
        raise
    total, validator = _identity(resp)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    written = 0
    resumes = 0
    try:
        with os.fdopen(fd, "wb") as out, Progress(
            total, bar=progress, callback=on_progress, description=target.name
        ) as report:
            while True:
                try:
                    for chunk in resp.stream(chunk_size):
                        out.write(chunk)
                        written += len(chunk)
                        report.advance(len(chunk))
                    resp.release_conn()
                    break
                except HTTPError as exc:
                    _discard(resp)
                    resumes += 1
                    if resumes > max_resumes:
                        raise APIConnectionError(
                            f"download interrupted {resumes} times, last: {type(exc).__name__}",
                            method="GET",
                            url=str(getattr(resp, "url", "") or ""),
                        ) from exc
                    resp, written = _resume(fetch, out, written, total, validator)
                    if written == 0:  # starting over, maybe with a new version of the file
                        total, validator = _identity(resp)
                        report.restart(total)
            # No fsync: like curl and pip, the rename makes the file appear whole to other
            # programs; durability across a power cut would cost seconds per GiB.
            out.flush()
        if total is not None and written != total:
            raise IncompleteDownloadError(f"received {written} bytes of the {total} announced for {target.name}")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _identity(resp: urllib3.BaseHTTPResponse) -> tuple[int | None, str | None]:
    """(size, validator) of a full answer; the validator (ETag or Last-Modified) is None when the
    server cannot resume it (no byte ranges or no size)."""
    total = _content_length(resp)
    resumable = resp.headers.get("Accept-Ranges", "").lower() == "bytes" and total is not None
    return total, (resp.headers.get("ETag") or resp.headers.get("Last-Modified")) if resumable else None


def _discard(resp: urllib3.BaseHTTPResponse) -> None:
    """Close a response whose body will not be read: its connection must not be reused as is."""
    resp.close()
    resp.release_conn()


def _resume(
    fetch: Fetch, out: Any, written: int, total: int | None, validator: str | None
) -> tuple[urllib3.BaseHTTPResponse, int]:
    """Ask for the rest (Range + If-Range) when possible, else the whole file again.

    Returns the response to stream from and how many bytes already written are kept.
    """
    resp: urllib3.BaseHTTPResponse | None = None
    if validator is not None and written > 0:
        try:
            resp = fetch({"Range": f"bytes={written}-", "If-Range": validator})
        except APIStatusError as exc:
            if exc.status != 416:  # range not satisfiable: start again below
                raise
        else:
            start = _range_start(resp) if resp.status == 206 else None
            if start is not None and start[0] == written and start[1] in (None, total):
                return resp, written
            if resp.status != 200:  # a range we did not ask for
                _discard(resp)
                resp = None
            # a 200 is the whole file (it changed since, If-Range failed): stream it from the start
    out.seek(0)
    out.truncate()
    return (resp if resp is not None else fetch({})), 0
