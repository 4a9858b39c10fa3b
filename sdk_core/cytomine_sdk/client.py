"""The API client: signs every request, sends it over one urllib3 pool, raises typed errors.

Each service is an attribute (`api_client.project_api`, from the generated `Services`) whose
methods hand their operation and arguments to `cytomine_sdk.invoke.Invoker`, which builds the
request and parses the answer; this module signs, sends and retries. A request is signed only
once its final URL, body and content type are known, which is what Cytomine servers check
(docs/server-facts.md section 1.2).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import random
import re
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import RemoteDisconnected
from types import TracebackType
from typing import IO, Any, NamedTuple
from urllib.parse import urlencode

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
)
from urllib3.exceptions import TimeoutError as _Urllib3Timeout
from urllib3.util import Retry, parse_url

from cytomine_sdk import __version__
from cytomine_sdk.configuration import Configuration
from cytomine_sdk.exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    ResponseTooLargeError,
    redact_url,
    redact_urllib3_logs,
    status_error_class,
)
from cytomine_sdk.identity import ServerGeneration, WhoAmI, detect_generation
from cytomine_sdk.invoke import Invoker
from cytomine_sdk.parsing import loads
from cytomine_sdk.signing import Generation, KeySigner, http_date
from cytomine_sdk.tokens import TokenSource, token_source
from cytomine_sdk_gen.services import SERVICE_NAMES, Services

logger: logging.Logger = logging.getLogger("cytomine_sdk")
# urllib3 logs URLs at DEBUG: keep tokens passed in queries (downloads) out of them.
redact_urllib3_logs()

USER_AGENT = f"cytomine-sdk/{__version__} (python)"
PIMS_PLACEHOLDER = "{pims}"
# What urllib3 rewrites in a request target before sending it (characters it percent-encodes,
# lower-case or invalid escapes): such URLs take the slow path, which signs the rewritten target.
_UNSAFE_TARGET = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]|%(?![0-9A-F]{2})")
# Error bodies are read whole up to this size for the exception's message.
MAX_ERROR_BODY = 1 << 20
# Bodies of answers that are not used (a 401 or 503 before a new attempt) are read up to this
# size to keep the connection; a longer body costs a new connection instead of a long read.
MAX_DRAINED_BODY = 1 << 16
Timeout = float | tuple[float, float] | None
Body = bytes | IO[bytes] | io.RawIOBase | None  # a file-like body must be rewindable (seek(0)) for retries


class Fetched(NamedTuple):
    """An answer read whole (`ApiClient.fetch`)."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str  # absolute, as sent


@dataclass(slots=True)
class _Request:
    """One request as every attempt sends it (signed anew each time)."""

    method: str
    url: str
    target: str  # the request target on the wire, which 2025/legacy servers sign
    pool: Any  # the host's connection pool, or None to go through the pool manager
    headers: dict[str, str]
    content_type: str
    body: Body
    timeout: urllib3.Timeout
    pims: bool
    anonymous: bool = False  # sent without credentials (no signature, no token)


def _transport_error(exc: Exception, method: str, url: str) -> APIConnectionError:
    # urllib3 makes a refused connection a subclass of its timeout error: it is not a timeout.
    timed_out = isinstance(exc, _Urllib3Timeout) and not isinstance(exc, NewConnectionError)
    kind = APITimeoutError if timed_out else APIConnectionError
    # No connection, no byte sent: the server cannot have acted on the request.
    sent = not isinstance(exc, (NewConnectionError, ConnectTimeoutError))
    return kind(f"{type(exc).__name__}: {exc}", method=method, url=url, request_sent=sent)


def _discard(resp: urllib3.BaseHTTPResponse) -> None:
    """Close a response whose body is not read to the end: its connection is never reused, or the
    rest of this body would be read as the answer to the next request."""
    resp.close()
    resp.release_conn()


def _release(resp: urllib3.BaseHTTPResponse) -> None:
    """Give back the connection of an answer whose body is not needed: kept when the body is
    short, closed otherwise."""
    with contextlib.suppress(HTTPError):  # then closed below
        resp.read(MAX_DRAINED_BODY)
    if resp.closed:  # the whole body was read
        resp.release_conn()
    else:
        _discard(resp)


# Set when a connection is opened in this thread: tells a request sent on a new connection from
# one sent on a kept-alive connection (see _unanswered_on_kept_alive).
_opened = threading.local()


class _HTTPConnection(HTTPConnection):
    def connect(self) -> None:
        _opened.connection = True
        super().connect()


class _HTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        _opened.connection = True
        super().connect()


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection  # pyright: ignore[reportAssignmentType]  # urllib3's Protocol is stricter than its classes


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection  # pyright: ignore[reportAssignmentType]


def _unanswered_on_kept_alive(exc: HTTPError) -> bool:
    """The request went out on a kept-alive connection and the server closed it cleanly, before a
    byte of an answer: the close crossed the request (a server closing idle or used connections
    races every client of keep-alive; measured: 48 of 2000 POSTs against a server closing after
    each answer, none of them seen by the server). Sending it again on a new connection is then
    safe whatever the method. A reset, a new connection, or any byte of an answer may mean the
    server read the request: those are not sent again unless the method may be retried."""
    cause = exc.args[-1] if isinstance(exc, ProtocolError) and exc.args else None
    return isinstance(cause, RemoteDisconnected) and not getattr(_opened, "connection", True)


class ApiClient(Services):
    """A client for one Cytomine server.

    Each service of the API is an attribute created on first use, e.g.
    ``api_client.project_api.retrieve(42)``. Use it as a context manager, or call `close()`, to
    release its connections.

    A client pickles: its configuration goes, credentials included (store and send a pickle as a
    secret), and the copy opens its own connections and logs in again. After `os.fork()` the
    child's clients open their own connections, never using the parent's sockets. See the guide,
    "Processes, pickling and fork".
    """

    def __init__(self, configuration: Configuration) -> None:
        if not isinstance(configuration, Configuration):
            raise TypeError("configuration: expected a cytomine_sdk.Configuration")
        self._setup(configuration)

    def _setup(self, configuration: Configuration) -> None:
        """A new client's state: no connection yet, nothing learned (also after unpickling)."""
        self._invoke = Invoker(self)
        self._server_generation: ServerGeneration | None = None
        self._configure(configuration)
        self._http = _make_pool(configuration)
        self._lifecycle = _Lifecycle()
        _LIVE_CLIENTS.add(self)  # last: a child forked now finds it whole (see _after_fork_in_child)

    def _configure(self, configuration: Configuration) -> None:
        """Derive, once, everything each request needs from the configuration."""
        previous = getattr(self, "configuration", None)
        self.configuration = configuration
        self._signer = (
            KeySigner(configuration.public_key, configuration.private_key)
            if configuration.public_key and configuration.private_key
            else None
        )
        shared: TokenSource | None = getattr(self, "_tokens", None)
        if shared is not None and previous is not None and _same_login(previous, configuration):
            # with_options() clones keep their parent's token (one login, one refresh for all).
            self._tokens: TokenSource | None = shared
        else:
            self._tokens = token_source(configuration, self._post_form) if self._signer is None else None
        self._auto = configuration.signature == "auto"
        if previous is None or previous.signature != configuration.signature or previous.host != configuration.host:
            # The scheme last accepted by the server (auto), or the configured one.
            self._generation: Generation = "2026" if self._auto else configuration.signature  # type: ignore[assignment]
        self._timeout = urllib3.Timeout(connect=configuration.connect_timeout, read=configuration.read_timeout)
        self._retry = _retry_policy(configuration)
        # Token requests are safe to repeat (each only gives a token): retried whatever the method.
        self._token_retry = self._retry.new(allowed_methods=None)
        parts = parse_url(configuration.host)
        # Requests to the host skip URL parsing (see _route); not through a proxy, which needs it.
        self._origin = f"{parts.scheme}://{parts.netloc}" if not configuration.proxy else "\0"
        self._pool: Any = None

    def with_options(self, **changes: Any) -> ApiClient:
        """A client with some settings changed, sharing this one's connections.

        For example ``api_client.with_options(max_retries=0, read_timeout=300)`` or
        ``api_client.with_options(retry_non_idempotent=True).annotation_api.create_many(...)``.
        Takes the `Configuration` parameters.
        """
        configuration = self.configuration.replace(**changes)
        # Not copy.copy(), which makes an independent client (see __getstate__): this one shares.
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        for name in SERVICE_NAMES:
            clone.__dict__.pop(name, None)  # they run on this client
        clone._invoke = Invoker(clone)
        clone._configure(configuration)
        if any(getattr(configuration, k) != getattr(self.configuration, k) for k in _POOL_SETTINGS):
            clone._http = _make_pool(configuration)
            clone._lifecycle = _Lifecycle()
        _LIVE_CLIENTS.add(clone)
        return clone

    # -- travelling: pickling, copies, fork (docs/guide/processes.md) ------------------------

    def __getstate__(self) -> dict[str, Any]:
        """What a pickle (or `copy.copy`/`copy.deepcopy`) of the client holds: its configuration,
        credentials included, whether it is closed and what it learned of the server. Connections,
        locks and tokens stay here: the other side opens its own, and logs in again."""
        return {
            "configuration": self.configuration,  # pickles only with a picklable token_provider
            "closed": self._lifecycle.closed,
            "generation": self._generation,
            "server_generation": self._server_generation,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._setup(state["configuration"])
        # A closed client stays closed: its copy fails as it would have (ClientClosedError).
        self._lifecycle.closed = bool(state.get("closed", False))
        learned = state.get("generation")
        if self._auto and learned in ("2026", "2025"):
            self._generation = learned  # the scheme the server accepted: no 401 to learn it again
        self._server_generation = state.get("server_generation")

    def _after_fork(self, managers: dict[int, urllib3.PoolManager]) -> None:
        """In a forked child: drop the parent's connections (and locks), never to send on them.

        `managers` maps the parent's pool managers to the child's, so that clients that shared
        connections (with_options) still share them.
        """
        inherited = self._http
        fresh = managers.get(id(inherited))
        if fresh is None:
            fresh = managers[id(inherited)] = _make_pool(self.configuration)
            _close_inherited_sockets(inherited)
        self._http = fresh
        self._pool = None
        reset = getattr(self._tokens, "_after_fork", None)
        if reset is not None:
            reset()  # a lock another thread of the parent held would never be released here

    @property
    def generation(self) -> Generation:
        """The signing scheme in use: configured, or the last one the server accepted (auto)."""
        return self._generation

    @property
    def signs(self) -> bool:
        """Whether requests are signed with API keys (else a bearer token, or nothing)."""
        return self._signer is not None

    def bearer_token(self) -> str | None:
        """The bearer token requests carry now (refreshed if due), or None with API keys. A
        secret: for the endpoints that take it in the query (original downloads, thumbnails)."""
        return self._tokens.current() if self._tokens is not None else None

    @property
    def server_generation(self) -> ServerGeneration | None:
        """The server's generation, once `whoami()` told it (else None)."""
        return self._server_generation

    def whoami(self) -> WhoAmI:
        """The current user and the server's generation (2026, 2025 or legacy): one request,
        ``GET /api/user/current.json``; it also proves the credentials work."""
        answer = self.user_api.with_raw_response.retrieve_current()
        user = answer.parse()
        raw = loads(answer.content)
        signing = self._generation if self._signer is not None else None
        generation = detect_generation(raw if isinstance(raw, dict) else {}, signing)
        self._server_generation = generation
        return WhoAmI(user, generation, signing)

    def close(self) -> None:
        """Close every pooled connection; later calls raise ClientClosedError.

        Clients made by `with_options` that share this client's connections are closed with it.
        An answer being streamed keeps its connection until it is read or closed.
        """
        self._lifecycle.closed = True
        pools = self._http.pools
        for key in pools.keys():  # noqa: SIM118 - the container refuses plain iteration
            # urllib3 2's PoolManager.clear() forgets its pools without closing their sockets.
            pool = pools.get(key)
            if pool is not None:
                pool.close()
        self._http.clear()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ApiClient({self.configuration!r})"

    # -- transport ---------------------------------------------------------------------------

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: Body = None,
        timeout: Timeout = None,
        anonymous: bool = False,
    ) -> urllib3.BaseHTTPResponse:
        """Send one request with credentials and return the response, body not yet read.

        `url` is absolute or a path below the configured host. Connection errors, timeouts and
        statuses 429/502/503/504 are retried per the configuration (each attempt signed anew);
        error statuses then raise a subclass of APIStatusError, connection problems
        APIConnectionError. With ``signature="auto"`` a 401 is re-sent once with the other scheme;
        with a token that can be renewed (username and password, token_provider), once with a
        new token. With `anonymous` the request carries no credentials at all (no signature, no
        token), e.g. for a public endpoint or another server.
        """
        req = self._request(method, url, dict(headers or {}), body, timeout, anonymous=anonymous)
        resp, _ = self._exchange(req, self._retry)
        return resp

    def fetch(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: Body = None,
        timeout: Timeout = None,
        binary: bool = False,
        anonymous: bool = False,
    ) -> Fetched:
        """Like `send`, and read the answer whole: status, headers, body and the URL sent to.

        A body cut off or stalled is fetched again when the request may be retried. With `binary`
        the body is read only up to `max_binary_in_memory` (ResponseTooLargeError beyond:
        stream it with `send` or `cytomine_sdk.downloads`), whatever its Content-Type says.
        `anonymous`: no credentials, as in `send`.
        """
        req = self._request(method, url, dict(headers or {}), body, timeout, anonymous=anonymous)
        return self._fetch(req, self._retry, binary)

    def _post_form(self, url: str, form: Mapping[str, str]) -> bytes:
        """POST `form` without credentials and return the answer's body: how a username and
        password log in to the IAM (`cytomine_sdk.iam.PostForm`), retried even though a POST."""
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        req = self._request("POST", url, headers, urlencode(form).encode("utf-8"), None, anonymous=True)
        return self._fetch(req, self._token_retry, False).content

    def _fetch(self, req: _Request, retry: Retry, binary: bool) -> Fetched:
        resp, retry = self._exchange(req, retry)
        while True:
            try:
                return Fetched(resp.status, resp.headers, self._read_whole(resp, req, binary), req.url)
            except HTTPError as exc:
                _discard(resp)
                retry = self._retry_after_error(retry, req, exc)
                resp, retry = self._exchange(req, retry)

    def _read_whole(self, resp: urllib3.BaseHTTPResponse, req: _Request, binary: bool) -> bytes:
        if not binary:
            data: bytes = resp.data
            return data
        limit = self.configuration.max_binary_in_memory
        length = resp.headers.get("Content-Length", "")
        known = int(length) if length.isdigit() else None
        if known is None or known <= limit:
            data = resp.read(limit + 1)
            if len(data) <= limit:
                rest: bytes = resp.read()
                return data + rest
        _discard(resp)  # its body is not read: the connection must not carry another answer
        raise ResponseTooLargeError(
            f"the answer is {'over ' if known is None else ''}{known or limit} bytes, more than "
            f"max_binary_in_memory ({limit}): stream it with cytomine_sdk.downloads.download() "
            "or the operation's with_streaming_response form",
            method=req.method,
            url=req.url,
        )

    def _request(
        self, method: str, url: str, headers: dict[str, str], body: Body, timeout: Timeout, *, anonymous: bool = False
    ) -> _Request:
        if self._lifecycle.closed:
            raise ClientClosedError(f"{method} {redact_url(url)}: this client is closed; create a new ApiClient")
        pims = url.startswith(PIMS_PLACEHOLDER)
        if pims:
            # Operations of the image server (spec: servers "{pims}" and "{pims}/ims").
            url = (self.configuration.pims_url or self.configuration.host) + url[len(PIMS_PLACEHOLDER) :]
        elif not url.startswith(("http://", "https://")):
            url = self.configuration.host + url
        headers.setdefault("User-Agent", USER_AGENT)
        pool, target = self._route(url)
        return _Request(
            method=method.upper(),
            url=url,
            target=target,
            pool=pool,
            headers=headers,
            content_type=_content_type(headers),
            body=body,
            timeout=self._timeout if timeout is None else _timeout(timeout),
            pims=pims,
            anonymous=anonymous,
        )

    def _exchange(self, req: _Request, retry: Retry) -> tuple[urllib3.BaseHTTPResponse, Retry]:
        """Send `req` until it is answered, retrying per `retry`; raise the answer's error status.

        Returns the answer (body unread) and what is left of `retry`, for a body read that fails.
        """
        kept_alive_failures = 0
        while True:
            if self._lifecycle.closed:
                raise ClientClosedError(f"{req.method} {redact_url(req.url)}: this client is closed")
            try:
                resp = self._send_authenticated(req)
            except HTTPError as exc:
                if _unanswered_on_kept_alive(exc) and kept_alive_failures <= self.configuration.pool_maxsize:
                    # Every pooled connection may be one the server closed: each try drops one.
                    kept_alive_failures += 1
                    logger.debug("%s %s: kept-alive connection closed by the server, sending again",
                                 req.method, redact_url(req.url))
                    continue
                retry = self._retry_after_error(retry, req, exc)
                continue
            # Only error statuses are retried (429, 502-504...): a success skips the check.
            if resp.status >= 400 and retry.is_retry(
                req.method, resp.status, has_retry_after="Retry-After" in resp.headers
            ):
                try:
                    retry = retry.increment(req.method, redact_url(req.url), response=resp)
                except MaxRetryError:
                    pass  # out of retries: the error status is raised below
                else:
                    _release(resp)
                    self._wait_before_retry(retry, req, f"HTTP {resp.status}", resp)
                    continue
            break
        if resp.status >= 300 and resp.status != 304:
            raise self._status_error(resp, req)
        return resp, retry

    def _retry_after_error(self, retry: Retry, req: _Request, exc: HTTPError) -> Retry:
        """What is left of `retry` after a transport error, once waited; a typed error when the
        request may not be retried (method, or no retry left)."""
        try:
            retry = retry.increment(req.method, redact_url(req.url), error=exc)
        except Exception:  # urllib3 re-raises `exc` or raises MaxRetryError: no retry left
            raise _transport_error(exc, req.method, req.url) from exc
        self._wait_before_retry(retry, req, type(exc).__name__, None)
        return retry

    def _route(self, url: str) -> tuple[Any, str]:
        """(connection pool, request target) of an absolute URL; the target is what urllib3 sends
        on the request line, which 2025/legacy servers sign."""
        origin = self._origin
        if url.startswith(origin) and url[len(origin) : len(origin) + 1] == "/" and not _UNSAFE_TARGET.search(url):
            # The usual case, done once per client rather than parsing every URL twice.
            if self._pool is None:
                self._pool = self._http.connection_from_url(origin)
            return self._pool, url[len(origin) :]
        return None, parse_url(url).request_uri

    def _send_authenticated(self, req: _Request) -> urllib3.BaseHTTPResponse:
        # PIMS checks the 2026 canonical string whatever the core's generation (docs/server-facts.md 1.2).
        generation: Generation = "2026" if req.pims else self._generation
        resp = self._send_signed(req, generation)
        if req.anonymous:
            return resp
        if resp.status == 401 and self._auto and self._signer is not None:
            # The other scheme may be the server's: a 401 is answered before any processing,
            # so re-sending is safe whatever the method.
            _release(resp)
            generation = "2025" if generation == "2026" else "2026"
            resp = self._send_signed(req, generation)
        elif resp.status == 401 and self._tokens is not None:
            try:
                renewed = self._tokens.refresh(req.headers.get("Authorization", "").removeprefix("Bearer "))
            except BaseException:  # e.g. the IAM refused a new login: its error is the one to see
                _release(resp)
                raise
            if renewed:
                # An expired or revoked token: sent once more, with a fresh one the source got.
                _release(resp)
                resp = self._send_signed(req, generation)
        if self._auto and resp.status != 401 and not req.pims:
            self._generation = generation
        return resp

    def _wait_before_retry(
        self, retry: Retry, req: _Request, cause: str, resp: urllib3.BaseHTTPResponse | None
    ) -> None:
        config = self.configuration
        try:
            wait = retry.get_retry_after(resp) if resp is not None else None
        except InvalidHeader:  # e.g. "soon", "-5", "1.5": not a delay the server can mean
            wait = None
        if wait is None:
            # Exponential backoff with jitter: backoff * 2^(n-1), plus up to as much again.
            base = config.retry_backoff * 2 ** (len(retry.history) - 1)
            wait = base + random.uniform(0, base)
        wait = min(wait, config.max_retry_wait)
        logger.info(
            "%s %s: %s, retry %d of %d in %.2f s",
            req.method,
            redact_url(req.url),
            cause,
            len(retry.history),
            config.max_retries,
            wait,
        )
        time.sleep(wait)

    def _send_signed(self, req: _Request, generation: Generation) -> urllib3.BaseHTTPResponse:
        body, headers, method = req.body, req.headers, req.method
        if body is not None and not isinstance(body, bytes):
            body.seek(0)  # a streamed body is read again by each attempt
        if self._signer is not None and not req.anonymous:
            date = http_date()
            headers["date"] = date
            headers["Authorization"] = self._signer.authorization(
                generation, method, req.target, req.content_type, date
            )
        elif self._tokens is not None and not req.anonymous:
            headers["Authorization"] = f"Bearer {self._tokens.current()}"
        debug = logger.isEnabledFor(logging.DEBUG)
        started = time.perf_counter() if debug else 0.0
        # Through the host's pool with the bare target when known (no second URL parse), else the
        # manager (other hosts, proxies).
        opener = req.pool.urlopen if req.pool is not None else self._http.urlopen
        _opened.connection = False  # set again if this attempt opens a connection
        resp = opener(
            method,
            req.target if req.pool is not None else req.url,
            body=body,
            headers=headers,
            timeout=req.timeout,
            retries=_NO_RETRY,
            redirect=False,
            preload_content=False,
        )
        if debug:
            logger.debug(
                "%s %s -> %d in %.1f ms",
                method,
                redact_url(req.url),
                resp.status,
                (time.perf_counter() - started) * 1000,
            )
        return resp

    def _status_error(self, resp: urllib3.BaseHTTPResponse, req: _Request) -> APIStatusError:
        try:
            body = resp.read(MAX_ERROR_BODY)
        except HTTPError:
            body = b""
        finally:
            if resp.closed:  # the whole body was read
                resp.release_conn()
            else:
                _discard(resp)
        reason = resp.reason or ""
        if 300 <= resp.status < 400:
            location = resp.headers.get("Location", "?")
            reason = f"{reason} to {redact_url(location)}; set the configuration's host to the final server URL"
        return status_error_class(resp.status)(
            status=resp.status,
            reason=reason,
            method=req.method,
            url=req.url,
            body=body,
            headers=resp.headers,
            hint=self._hint_401(req) if resp.status == 401 else None,
        )

    def _hint_401(self, req: _Request) -> str:
        """What to check when the server refused the credentials (no secret in it)."""
        host = "the host is the server's root URL (no trailing /api)"
        if req.anonymous:
            return "sent without credentials (anonymous=True)"
        if self._signer is not None:
            # The public key's start tells which key pair was used (the private key never shows).
            key = f"the keys of public key {str(self.configuration.public_key)[:4]}..."
            if req.pims:
                return f"the image server refused the 2026 signature with {key}: check them, and that {host}"
            if self._auto:
                return (
                    f"signed with {key} in both schemes (2026, then 2025/legacy), both refused: check the public "
                    f"and private keys (and that their user is enabled), and that {host}"
                )
            return (
                f"signed with {key} in the {self._generation} scheme: check the keys, that {host}, and the "
                "server's generation (signature='auto' tries both schemes)"
            )
        if self._tokens is not None:
            return "the bearer token was refused: it may have expired (IAM tokens last minutes) or be another server's"
        return "no credentials configured: set public_key and private_key, or token"


# What urllib3 makes of retries=False, built once instead of on every request (send() retries).
_NO_RETRY = Retry(total=False, redirect=False)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})


def _retry_policy(configuration: Configuration) -> Retry:
    """What is retried; `ApiClient.send` waits and re-signs between attempts itself."""
    methods = IDEMPOTENT_METHODS | ({"POST", "PATCH"} if configuration.retry_non_idempotent else set())
    n = configuration.max_retries
    return Retry(
        total=n,
        connect=n,
        read=n,
        status=n,
        other=0,  # e.g. TLS errors: retrying does not help
        redirect=0,
        allowed_methods=methods,
        status_forcelist=RETRY_STATUSES,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def _content_type(headers: dict[str, str]) -> str:
    """The Content-Type the request sends, whatever the case of its header name (it is signed)."""
    names = [name for name in headers if len(name) == 12 and name.lower() == "content-type"]
    if len(names) > 1:
        raise ValueError(f"headers: Content-Type given {len(names)} times ({', '.join(names)})")
    return headers[names[0]] if names else ""


def _timeout(value: float | tuple[float, float]) -> urllib3.Timeout:
    if isinstance(value, tuple):
        return urllib3.Timeout(connect=value[0], read=value[1])
    return urllib3.Timeout(connect=value, read=value)


_POOL_SETTINGS = ("verify_ssl", "ssl_ca_cert", "proxy", "pool_maxsize")
# What a token source depends on: a with_options() clone changing none of them shares its parent's.
_LOGIN_SETTINGS = (
    "host", "public_key", "private_key", "token", "username", "password", "token_provider", "iam_url", *_POOL_SETTINGS,
)


def _same_login(a: Configuration, b: Configuration) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in _LOGIN_SETTINGS)


@dataclass(slots=True)
class _Lifecycle:
    """Whether a pool of connections was closed; shared by the clients using it."""

    closed: bool = False


# Every client alive in this process (weak references: a client is not kept alive by it), so that a
# forked child drops the connections it inherited before it sends anything (_after_fork_in_child).
_LIVE_CLIENTS: weakref.WeakSet[ApiClient] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """Run by `os.fork()` in the child (multiprocessing's "fork" start method included), while it
    has a single thread: each client gets new, empty pools, so the child never sends on a socket
    of its parent, nor waits on a lock another thread of the parent held when it forked."""
    managers: dict[int, urllib3.PoolManager] = {}
    for client in list(_LIVE_CLIENTS):
        try:
            client._after_fork(managers)
        except Exception:  # a client half-built when the parent forked: it can never be used
            logger.debug("after fork: could not reset a client", exc_info=True)


def _close_inherited_sockets(manager: urllib3.PoolManager) -> None:
    """Close the child's copies of the parent's idle sockets (the parent's stay open: closing a
    copy sends nothing to the server), without the pools' locks, which another thread of the
    parent may have held when it forked; so the server sees the connection end when the parent
    closes it, not when this child exits. Sockets of connections in use are left to the GC."""
    try:
        pools = list(manager.pools._container.values())
    except Exception:  # another urllib3: its pools and sockets are left to the GC
        return
    for pool in pools:
        idle = getattr(getattr(pool, "pool", None), "queue", None)  # the deque of its LifoQueue
        for conn in list(idle or ()):
            sock = getattr(conn, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _make_pool(configuration: Configuration) -> urllib3.PoolManager:
    pool_args: dict[str, Any] = {
        "maxsize": configuration.pool_maxsize,
        "cert_reqs": "CERT_REQUIRED" if configuration.verify_ssl else "CERT_NONE",
    }
    if configuration.ssl_ca_cert:
        pool_args["ca_certs"] = configuration.ssl_ca_cert
    manager = (
        urllib3.ProxyManager(configuration.proxy, **pool_args)
        if configuration.proxy
        else urllib3.PoolManager(**pool_args)
    )
    # Pools whose connections tell when they are opened (see _unanswered_on_kept_alive).
    manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return manager
