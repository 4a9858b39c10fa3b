"""Streaming downloads to disk: constant memory, atomic, resumable, checked.

    from cytomine_sdk.downloads import download

    path = download(api_client.abstract_image_api.download, 1234, dest="slides/")

`download` takes any binary operation of the client (its arguments follow) or, with
`download_url`, any URL below the host. The body is streamed in chunks to a part file in the
target folder (``.{name}.part``) and renamed only once complete and checked against
Content-Length, so no partial file is ever left under the final name.

A dropped connection resumes with a Range request when the server supports it, validated with
If-Range (the strong ETag of the first answer, else its Last-Modified when that is strong); a 206
answer is used only if its validator and Content-Range prove it is the rest of the same version,
otherwise the transfer restarts from the beginning: never two versions spliced. A download that
stops (an error, Ctrl-C, a killed process) keeps its part and what validates it
(``.{name}.part.meta``), and the next download to the same file resumes from there.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import json
import os
import re
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError, IncompleteRead

from cytomine_sdk.exceptions import APIConnectionError, APIStatusError, CytomineError
from cytomine_sdk.progress import Progress, ProgressCallback

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

if TYPE_CHECKING:
    from cytomine_sdk.client import ApiClient

CHUNK_SIZE = 1 << 20  # measured: 256 KiB reads halve the speed; a drop loses at most a chunk
MAX_RESUMES = 5
NAME_MAX_BYTES = 240
"""Longest name `safe_filename` returns, in UTF-8 bytes: 255 (the limit of ext4, XFS, APFS, NTFS)
less what the part file's name adds (at most ".{name}.XXXXXXXX.part")."""
Fetch = Callable[[dict[str, str]], urllib3.BaseHTTPResponse]

# Control and format characters (bidi overrides such as U+202E, zero-width and invisible marks),
# line separators and lone surrogates: they make a name display as another ("scan<U+202E>fdp.svs"
# shows as "scansvs.pdf"), break listings, or cannot be written to disk.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# The extension kept when a name is shortened: "svs", or a double one such as "ome.tiff", "tar.gz".
_EXTENSION = re.compile(r"(?:\.[A-Za-z0-9]{1,4})?\.[A-Za-z0-9]{1,16}\Z")
_LOCK_BUSY = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK})


class IncompleteDownloadError(CytomineError):
    """The server sent fewer (or more) bytes than it announced."""


class DownloadInProgressError(CytomineError):
    """Another download (thread or process) is writing the same file now."""


def safe_filename(name: str | None, fallback: str = "download") -> str:
    """A server-supplied file name reduced to a plain name that cannot leave its folder, shows as
    what it is (no control or bidi characters) and, with its part file's name, fits the file
    system: longer than NAME_MAX_BYTES, it is cut on a character, its extension kept."""
    if not name:
        return fallback
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _INVISIBLE).strip().lstrip(".")
    if name in ("", ".", ".."):
        return fallback
    return _shorten(name, NAME_MAX_BYTES)


def _shorten(name: str, limit: int) -> str:
    if len(name.encode()) <= limit:
        return name
    match = _EXTENSION.search(name)
    extension = match.group() if match and match.start() > 0 else ""
    stem = name[: len(name) - len(extension)].encode()[: limit - len(extension)]
    return stem.decode("utf-8", "ignore") + extension  # "ignore" drops a character cut in two


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

    The body goes to a part file beside the target, ``.{name}.part``, renamed to the target once
    complete. If the download stops (connection lost more than `max_resumes` times, another
    error, KeyboardInterrupt, the process killed), the part is kept with what validates it
    (``.{name}.part.meta``) when the server supports ranges; the next download to the same
    target resumes from it if the server shows the file is unchanged, and otherwise removes it and
    starts over. Delete those hidden files to drop an abandoned download.

    Args:
        method: a binary operation of the client; `args`/`kwargs` are its arguments.
        dest: a file path, or an existing folder (the server's file name is used, sanitised).
        overwrite: replace an existing file (otherwise FileExistsError, before anything is written).
        progress: show a tqdm progress bar (the `progress` extra).
        on_progress: called with (bytes written, total bytes or None) as the download goes.
        chunk_size: bytes read at a time (memory use stays about this size).
        max_resumes: how many dropped connections are resumed before giving up.

    Raises:
        DownloadInProgressError: another download to the same target is running (thread or
            process): it is not waited for.
        IncompleteDownloadError: the server sent another size than it announced.
        APIConnectionError, APIStatusError: as any request.
    """
    streaming = getattr(getattr(method, "__self__", None), "with_streaming_response", None)
    raw = getattr(streaming, getattr(method, "__name__", ""), None)
    if raw is None:
        raise TypeError(f"method: expected a binary operation of an API client, got {method!r}")
    if "extra_headers" in kwargs:
        raise TypeError("extra_headers: set by download itself (Range, If-Range)")

    def fetch(headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
        response: urllib3.BaseHTTPResponse = raw(*args, extra_headers=headers, **kwargs).response
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


@dataclass(frozen=True)
class _Identity:
    """What identifies the version being downloaded: the first full answer's size, its strong
    validator (ETag, else Last-Modified), and a hash of its path (a resumed answer must match)."""

    total: int | None
    etag: str | None
    modified: str | None
    source: str

    @property
    def validator(self) -> str | None:
        return self.etag or self.modified

    @property
    def resumable(self) -> bool:
        return self.total is not None and self.validator is not None

    @classmethod
    def from_json(cls, raw: bytes) -> _Identity | None:
        try:
            fields = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(fields, dict):
            return None
        total, etag, modified, source = (fields.get(k) for k in ("total", "etag", "modified", "source"))
        if not isinstance(total, int) or not isinstance(source, str):
            return None
        if not all(v is None or isinstance(v, str) for v in (etag, modified)):
            return None
        return cls(total, etag, modified, source)


def _identity(resp: urllib3.BaseHTTPResponse) -> _Identity:
    """The identity of a full answer; without a validator when it cannot be resumed (no byte
    ranges, no size, or only weak validators)."""
    total = _content_length(resp)
    source = _source(resp)
    if total is None or resp.headers.get("Accept-Ranges", "").lower() != "bytes":
        return _Identity(total, None, None, source)
    etag = resp.headers.get("ETag")
    if etag and not etag.startswith("W/"):  # RFC 9110 13.1.5: If-Range takes strong validators only
        return _Identity(total, etag, None, source)
    modified = resp.headers.get("Last-Modified")
    strong = modified is not None and _strong_date(modified, resp.headers.get("Date"))
    return _Identity(total, None, modified if strong else None, source)


def _strong_date(modified: str, date: str | None) -> bool:
    # RFC 9110 8.8.2.2: a client may take Last-Modified as strong only if it is at least 60 s
    # before the answer's Date; a file changed twice in a second would otherwise look unchanged.
    if date is None:
        return False
    try:
        return (parsedate_to_datetime(date) - parsedate_to_datetime(modified)).total_seconds() >= 60
    except (TypeError, ValueError, OverflowError):
        return False


def _source(resp: urllib3.BaseHTTPResponse) -> str:
    # A hash of the path alone: the metadata on disk must not keep a token from the query.
    path = urlsplit(str(getattr(resp, "url", None) or "")).path
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _continues(resp: urllib3.BaseHTTPResponse, start: int, identity: _Identity) -> bool:
    """Whether `resp` is the rest of the same version from byte `start`: a 206 whose validator
    matches in a strong comparison and whose Content-Range is exactly the range asked for."""
    if resp.status != 206 or resp.headers.get("Content-Encoding", "identity") != "identity":
        return False
    if not identity.resumable or _source(resp) != identity.source:
        return False
    if identity.etag is not None and resp.headers.get("ETag") != identity.etag:
        return False
    if identity.modified is not None and resp.headers.get("Last-Modified") != identity.modified:
        return False
    match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", resp.headers.get("Content-Range", "").strip())
    if match is None:
        return False
    first, last, total = (int(g) for g in match.groups())
    length = _content_length(resp)
    return (first, last + 1, total) == (start, identity.total, identity.total) and length in (None, total - start)


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
    resp: urllib3.BaseHTTPResponse | None = None
    if dest.is_dir():
        resp = fetch({})  # the server names the file
        target = dest / safe_filename(filename_from_headers(resp.headers))
    else:
        _refuse_existing(dest, overwrite)
        if not dest.parent.is_dir():
            raise FileNotFoundError(f"dest: folder {dest.parent} does not exist")
        target = dest
    try:
        _refuse_existing(target, overwrite)
        part = _PartFile(target)
    except BaseException:
        if resp is not None:
            _discard(resp)
        raise
    identity: _Identity | None = None
    written = 0
    try:
        _refuse_existing(target, overwrite)  # again: a download that held the lock may have finished it
        saved = part.saved()
        if saved is not None and resp is not None and _identity(resp) != saved[1]:
            part.remove()  # the file changed since (or cannot be resumed): start over with this answer
            saved = None
        if saved is not None:
            if resp is not None:
                _discard(resp)
            written, identity = saved
            resp, written = _reopen(fetch, written, identity)
        elif resp is None:
            resp = fetch({})
        if not written:
            identity = _identity(resp)
        assert identity is not None
        part.open(identity, written)
        resumes = 0
        buffer = bytearray(chunk_size)  # every chunk is read into it: no allocation per chunk
        with Progress(identity.total, bar=progress, callback=on_progress, description=target.name) as report:
            if written:
                report.advance(written)
            while True:
                try:
                    for chunk in _chunks(resp, buffer):
                        part.write(chunk)
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
                    resp, written = _reopen(fetch, written, identity)
                    if written == 0:  # starting over, maybe with a new version of the file
                        identity = _identity(resp)
                        part.open(identity, 0)
                        report.restart(identity.total)
        if identity.total is not None and written != identity.total:
            raise IncompleteDownloadError(
                f"received {written} bytes of the {identity.total} announced for {target.name}"
            )
        part.commit()
    except BaseException as exc:
        if resp is not None:
            _discard(resp)
        resumable = identity is not None and identity.resumable and written > 0
        part.release(keep=resumable and not isinstance(exc, IncompleteDownloadError))
        raise
    part.release(keep=False)
    return target


def _chunks(resp: urllib3.BaseHTTPResponse, buffer: bytearray) -> Iterator[bytes | memoryview]:
    """The body of `resp`, up to len(buffer) bytes at a time; each chunk is valid only until the
    next one is asked for (it may be a view of `buffer`, which the next read overwrites).

    An identity body is read from the socket straight into `buffer` by the http.client response
    under urllib3's: urllib3's own read allocates a new bytes object per chunk (measured on 2 GiB:
    4.5x the page faults, twice the user CPU, 2 MB more peak RSS, some runs up to 63 MB). Errors
    are turned into urllib3's by its own catcher (a timeout is a ReadTimeoutError, a reset a
    ProtocolError, and the connection is closed), and a body shorter than its Content-Length
    raises as urllib3 does. A compressed body, or a urllib3 without these internals, goes through
    `stream`.
    """
    fp = getattr(resp, "_fp", None)
    found = getattr(resp, "_error_catcher", None)
    identity = resp.headers.get("Content-Encoding", "identity").lower() == "identity"
    if not (identity and isinstance(fp, http.client.HTTPResponse) and callable(found)):
        yield from resp.stream(len(buffer))
        return
    catcher = cast("Callable[[], contextlib.AbstractContextManager[None]]", found)
    view = memoryview(buffer)
    expected = None if resp.chunked else _content_length(resp)
    received = 0
    while True:
        with catcher():
            n = fp.readinto(view)
            if not n and expected is not None and received != expected:
                raise IncompleteRead(received, expected - received)
        if not n:
            return
        received += n
        yield view[:n]


def _refuse_existing(target: Path, overwrite: bool) -> None:
    if not overwrite and target.exists():
        raise FileExistsError(f"dest: {target} exists; pass overwrite=True to replace it")


def _discard(resp: urllib3.BaseHTTPResponse) -> None:
    """Close a response whose body will not be read: its connection must not be reused as is."""
    resp.close()
    resp.release_conn()


def _reopen(fetch: Fetch, written: int, identity: _Identity) -> tuple[urllib3.BaseHTTPResponse, int]:
    """Ask for the rest (Range + If-Range) when possible, else the whole file again.

    Returns the response to stream from and how many bytes already written it continues (0: the
    whole file, maybe a new version).
    """
    validator = identity.validator
    if validator is not None and identity.total is not None and written > 0:
        try:
            resp = fetch({"Range": f"bytes={written}-", "If-Range": validator})
        except APIStatusError as exc:
            if exc.status != 416:  # range not satisfiable (the file shrank): start again below
                raise
        else:
            if _continues(resp, written, identity):
                return resp, written
            if resp.status == 200:  # If-Range failed: the whole file, changed since
                return resp, 0
            # A 206 of another version (a server or proxy that ignores If-Range) or another range:
            # never spliced to what we have, and its connection never reused with the body unread.
            _discard(resp)
    return fetch({}), 0


class _PartFile:
    """The part file of one target, its metadata, and the lock that keeps it to one download.

    The metadata (the version's identity, as JSON) sits in a small file beside the part rather
    than in an extended attribute: those are missing or limited on FAT, SMB and some NFS mounts
    and on Windows, and lost by copies. The same file is the lock: flock on Linux/macOS,
    msvcrt.locking on Windows; the OS releases both when a process dies, so a killed download
    never blocks the next. A held lock raises DownloadInProgressError at once rather than waiting
    for a download that may stall for hours. On a file system without locks (ENOLCK, e.g. NFS
    without a lock daemon), the download writes a private part (random name) that it never keeps.
    """

    def __init__(self, target: Path) -> None:
        base = _part_base(target.name)
        self.target = target
        self.path = target.with_name(f".{base}.part")
        self._meta = target.with_name(f".{base}.part.meta")
        self._file: IO[bytes] | None = None
        self._lock = _lock(self._meta, target)
        if self._lock is None:
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{base}.", suffix=".part")
            os.close(fd)
            self.path = Path(name)

    def saved(self) -> tuple[int, _Identity] | None:
        """(bytes, identity) of the part an earlier download left, if it can be resumed; a part
        that cannot (no metadata, empty, complete or oversized) is removed."""
        if self._lock is None:
            return None
        try:
            os.lseek(self._lock, 0, os.SEEK_SET)
            identity = _Identity.from_json(os.read(self._lock, 1 << 16))
            size = self.path.stat().st_size
        except OSError:
            identity, size = None, 0
        if identity is None or identity.total is None or not identity.resumable or not 0 < size < identity.total:
            self.remove()
            return None
        # Trusting the part's size: a killed process loses nothing the kernel accepted, and
        # journaling file systems (ext4's ordered data, XFS, btrfs, APFS) persist a file's size
        # only after its data, so a power cut leaves a shorter part, not one with a hole.
        return size, identity

    def open(self, identity: _Identity, offset: int) -> None:
        """Write from `offset`; at 0 the part is emptied and then `identity` recorded, so the part
        never holds bytes that its metadata does not describe."""
        if self._file is None:
            self._file = open(self.path, "r+b" if offset else "wb")  # noqa: SIM115 (closed in commit or release)
        self._file.seek(offset)  # also writes out what is buffered
        if os.fstat(self._file.fileno()).st_size != offset:
            # Only when needed: ext4 (auto_da_alloc) starts the write-back of a file truncated to
            # zero when it is closed, and the close waits for it: measured 0.12-0.15 s for each
            # 512 MiB at the commit of a new part, a third of the download's time.
            self._file.truncate()
        if self._lock is not None:
            _rewrite(self._lock, json.dumps(asdict(identity)).encode() if identity.resumable else b"")

    def write(self, chunk: bytes | memoryview) -> None:
        assert self._file is not None
        self._file.write(chunk)

    def commit(self) -> None:
        """The part, complete, becomes the target."""
        assert self._file is not None
        self._file.close()
        os.replace(self.path, self.target)

    def remove(self) -> None:
        """Forget the part (a stale one, or one this download will not keep)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self.path.unlink(missing_ok=True)
        if self._lock is not None:
            _rewrite(self._lock, b"")

    def release(self, keep: bool) -> None:
        """Close, keep the part for the next download or remove it, and unlock."""
        if self._file is not None:
            self._file.close()
        if not keep or self._lock is None:
            self.path.unlink(missing_ok=True)
        if self._lock is not None:
            _unlock(self._lock, None if keep and self.path.exists() else self._meta)


def _part_base(name: str) -> str:
    """`name`, or for a longer name than a part file's name allows (one the caller chose), its
    beginning and a hash of it."""
    if len(os.fsencode(name)) <= NAME_MAX_BYTES:
        return name
    return name[:48] + "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:16]


def _rewrite(fd: int, data: bytes) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)


def _lock(path: Path, target: Path) -> int | None:
    """An open, locked descriptor of `path`, or None where the file system has no locks."""
    for _ in range(100):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
        try:
            _try_lock(fd)
        except OSError as exc:
            empty = os.fstat(fd).st_size == 0
            os.close(fd)
            if exc.errno in _LOCK_BUSY:
                raise DownloadInProgressError(f"another download to {target} is in progress") from None
            if empty:
                path.unlink(missing_ok=True)
            return None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # removed by the download that held it meanwhile: lock the new one
    raise DownloadInProgressError(f"another download to {target} is in progress")


if sys.platform == "win32":
    _LOCK_OFFSET = 1 << 30  # past the metadata: a locked byte cannot be read through other handles

    def _try_lock(fd: int) -> None:
        os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int, remove: Path | None) -> None:
        try:
            os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        finally:
            os.close(fd)
        if remove is not None:
            # only once closed on Windows; if another download opened it meanwhile, it stays
            with contextlib.suppress(PermissionError):
                remove.unlink(missing_ok=True)

else:

    def _try_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int, remove: Path | None) -> None:
        try:
            if remove is not None:  # while still locked: whoever opened it meanwhile sees it replaced
                remove.unlink(missing_ok=True)
        finally:
            os.close(fd)
