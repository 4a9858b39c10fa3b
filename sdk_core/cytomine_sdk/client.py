"""The API client: signs every request, sends it over one urllib3 pool, raises typed errors.

It reuses the generated client's request building and response parsing, and replaces its
transport (`call_api`): the request is signed only once its final URL, body and content type are
known, which is what Cytomine servers check (facts.md section 1.2).
"""

from __future__ import annotations

import copy
import io
import json
import logging
import random
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlencode

import urllib3
from pydantic import BaseModel
from urllib3.exceptions import HTTPError, MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as _Urllib3Timeout
from urllib3.util import Retry, parse_url

import cytomine_sdk_gen.models as _generated_models
from cytomine_sdk import __version__
from cytomine_sdk.configuration import Configuration
from cytomine_sdk.exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InvalidResponseError,
    RedactingFilter,
    ResponseTooLargeError,
    redact_url,
    status_error_class,
)
from cytomine_sdk.parsing import parse_model, parse_model_list
from cytomine_sdk.signing import Generation, KeySigner, http_date
from cytomine_sdk_gen.api_client import ApiClient as _GeneratedApiClient
from cytomine_sdk_gen.api_response import ApiResponse
from cytomine_sdk_gen.rest import RESTResponse
from cytomine_sdk_gen.service_apis import SERVICE_APIS, ServiceApis

logger = logging.getLogger("cytomine_sdk")
# urllib3 logs request lines at DEBUG: keep tokens passed in queries (downloads) out of them.
logging.getLogger("urllib3.connectionpool").addFilter(RedactingFilter())

USER_AGENT = f"cytomine-sdk/{__version__} (python)"
PIMS_PLACEHOLDER = "{pims}"
# Characters urllib3 would percent-encode in a request target (then signed as encoded).
_UNSAFE_TARGET = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]")
# Error bodies are read whole up to this size for the exception's message.
MAX_ERROR_BODY = 1 << 20
Timeout = float | tuple[float, float] | None
Body = bytes | IO[bytes] | io.RawIOBase | None  # a file-like body must be rewindable (seek(0)) for retries


class _Response(RESTResponse):
    """The generated client's response wrapper, remembering the request and typing read errors.

    Bodies that are not JSON are read into memory only up to a limit: larger ones (slides,
    archives) must be streamed (`cytomine_sdk.downloads`, or `<operation>_without_preload_content`).
    """

    def __init__(self, resp: urllib3.BaseHTTPResponse, method: str, url: str, limit: int) -> None:
        super().__init__(resp)
        self.data: bytes | None = None  # type: ignore[assignment]  # generated base: inferred None
        self.method = method
        self.url = url
        self.limit = limit

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        resp = self.response
        try:
            if "json" in resp.headers.get("Content-Type", "").lower():
                data: bytes = resp.data
            else:
                length = resp.headers.get("Content-Length", "")
                if length.isdigit() and int(length) > self.limit:
                    raise self._too_large(int(length))
                data = resp.read(self.limit + 1)
                if len(data) > self.limit:
                    raise self._too_large(None)
                data += resp.read()
            self.data = data
            return data
        except HTTPError as exc:
            raise _transport_error(exc, self.method, self.url) from exc
        except ResponseTooLargeError:
            resp.release_conn()
            raise

    def _too_large(self, size: int | None) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            f"the answer is {'over ' if size is None else ''}{size or self.limit} bytes, more than "
            f"max_binary_in_memory ({self.limit}): stream it with cytomine_sdk.downloads.download() "
            "or the operation's _without_preload_content form",
            method=self.method,
            url=self.url,
        )


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


def _transport_error(exc: Exception, method: str, url: str) -> APIConnectionError:
    # urllib3 makes a refused connection a subclass of its timeout error: it is not a timeout.
    timed_out = isinstance(exc, _Urllib3Timeout) and not isinstance(exc, NewConnectionError)
    kind = APITimeoutError if timed_out else APIConnectionError
    return kind(f"{type(exc).__name__}: {exc}", method=method, url=url)


class ApiClient(ServiceApis, _GeneratedApiClient):
    """A client for one Cytomine server.

    Each service of the API is an attribute created on first use, e.g.
    ``api_client.project_api.retrieve(42)``. Use it as a context manager, or call `close()`, to
    release its connections.
    """

    def __init__(self, configuration: Configuration) -> None:
        if not isinstance(configuration, Configuration):
            raise TypeError("configuration: expected a cytomine_sdk.Configuration")
        # The generated __init__ builds a transport of its own: set only what its methods read.
        self.default_headers: dict[str, str] = {"User-Agent": USER_AGENT}
        self.cookie = None
        self.client_side_validation = True
        self._configure(configuration)
        self._http = _make_pool(configuration)

    def _configure(self, configuration: Configuration) -> None:
        """Derive, once, everything each request needs from the configuration."""
        previous = getattr(self, "configuration", None)
        self.configuration = configuration
        self._signer = (
            KeySigner(configuration.public_key, configuration.private_key)
            if configuration.public_key and configuration.private_key
            else None
        )
        self._bearer = f"Bearer {configuration.token}" if configuration.token else None
        self._auto = configuration.signature == "auto"
        if previous is None or previous.signature != configuration.signature or previous.host != configuration.host:
            # The scheme last accepted by the server (auto), or the configured one.
            self._generation: Generation = "2026" if self._auto else configuration.signature  # type: ignore[assignment]
        self._timeout = urllib3.Timeout(connect=configuration.connect_timeout, read=configuration.read_timeout)
        self._retry = _retry_policy(configuration)
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
        clone = copy.copy(self)
        for name in SERVICE_APIS:
            clone.__dict__.pop(name, None)  # their api_client is this client
        clone._configure(configuration)
        if any(getattr(configuration, k) != getattr(self.configuration, k) for k in _POOL_SETTINGS):
            clone._http = _make_pool(configuration)
        return clone

    @property
    def generation(self) -> Generation:
        """The signing scheme in use: configured, or the last one the server accepted (auto)."""
        return self._generation

    def close(self) -> None:
        """Close every pooled connection."""
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

    # -- hooks of the generated client -------------------------------------------------------

    def update_params_for_auth(self, *args: Any, **kwargs: Any) -> None:
        """Credentials are added by `send`, once the final request is known."""

    def call_api(
        self,
        method: str,
        url: str,
        header_params: dict[str, str] | None = None,
        body: Any = None,
        post_params: Sequence[tuple[str, Any]] | None = None,
        _request_timeout: Timeout = None,
    ) -> RESTResponse:
        """Encode the body, send the request signed and return the (unread) response."""
        headers = dict(header_params or {})
        payload = _encode_body(headers, body, post_params)
        resp = self.send(method, url, headers=headers, body=payload, timeout=_request_timeout)
        return _Response(resp, method, url, self.configuration.max_binary_in_memory)

    def response_deserialize(
        self, response_data: RESTResponse, response_types_map: dict[str, Any] | None = None
    ) -> ApiResponse[Any]:
        """Parse an answer (already read) into the operation's declared type.

        Models are parsed from the raw bytes, leniently (see cytomine_sdk.parsing); an answer that
        is not JSON where JSON is declared raises InvalidResponseError.
        """
        status = response_data.status
        types_map = response_types_map or {}
        response_type = types_map.get(str(status)) or types_map.get(f"{str(status)[0]}XX")
        raw: bytes = response_data.data or b""
        try:
            data = self._parse(response_type, raw, response_data.headers.get("content-type"))
        except ValueError as exc:
            raise InvalidResponseError(
                f"cannot parse the answer as {response_type}: {exc}",
                status=status,
                method=getattr(response_data, "method", "?"),
                url=getattr(response_data, "url", "?"),
                body=raw,
            ) from exc
        # Built without validation: every field is known good, and this runs on every call.
        return ApiResponse.model_construct(status_code=status, data=data, headers=response_data.headers, raw_data=raw)

    def _parse(self, response_type: str | None, raw: bytes, content_type: str | None) -> Any:
        if response_type is None:
            return None
        if response_type in ("bytes", "bytearray"):
            return raw
        if not raw.strip():
            return None  # e.g. 2026 repository creates may answer an empty body
        list_of = response_type[5:-1] if response_type.startswith("List[") else None
        model = getattr(_generated_models, list_of or response_type, None)
        if isinstance(model, type) and issubclass(model, BaseModel):
            return parse_model_list(model, raw) if list_of else parse_model(model, raw)
        return self.deserialize(raw.decode("utf-8", "replace"), response_type, content_type)

    # -- transport ---------------------------------------------------------------------------

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: Body = None,
        timeout: Timeout = None,
    ) -> urllib3.BaseHTTPResponse:
        """Send one request with credentials and return the response, body not yet read.

        `url` is absolute or a path below the configured host. Connection errors, timeouts and
        statuses 429/502/503/504 are retried per the configuration (each attempt signed anew);
        error statuses then raise a subclass of APIStatusError, connection problems
        APIConnectionError. With ``signature="auto"`` a 401 is re-sent once with the other scheme.
        """
        pims = url.startswith(PIMS_PLACEHOLDER)
        if pims:
            # Operations of the image server (spec: servers "{pims}" and "{pims}/ims").
            url = (self.configuration.pims_url or self.configuration.host) + url[len(PIMS_PLACEHOLDER) :]
        elif not url.startswith(("http://", "https://")):
            url = self.configuration.host + url
        request_headers = dict(headers or {})
        pool, target = self._route(url)
        req = _Request(
            method=method.upper(),
            url=url,
            target=target,
            pool=pool,
            headers=request_headers,
            content_type=request_headers.get("Content-Type", ""),
            body=body,
            timeout=self._timeout if timeout is None else _timeout(timeout),
            pims=pims,
        )
        retry = self._retry
        while True:
            try:
                resp = self._send_authenticated(req)
            except HTTPError as exc:
                try:
                    retry = retry.increment(req.method, url, error=exc)
                except Exception:  # urllib3 re-raises `exc` or raises MaxRetryError: no retry left
                    raise _transport_error(exc, req.method, url) from exc
                self._wait_before_retry(retry, req, f"{type(exc).__name__}", None)
                continue
            if retry.is_retry(req.method, resp.status, has_retry_after="Retry-After" in resp.headers):
                try:
                    retry = retry.increment(req.method, url, response=resp)
                except MaxRetryError:
                    pass  # out of retries: the error status is raised below
                else:
                    resp.drain_conn()
                    resp.release_conn()
                    self._wait_before_retry(retry, req, f"HTTP {resp.status}", resp)
                    continue
            break
        if resp.status >= 300 and resp.status != 304:
            raise self._status_error(resp, req.method, url)
        return resp

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
        # PIMS checks the 2026 canonical string whatever the core's generation (facts.md 1.2).
        generation: Generation = "2026" if req.pims else self._generation
        resp = self._send_signed(req, generation)
        if resp.status == 401 and self._auto and self._signer is not None:
            # The other scheme may be the server's: a 401 is answered before any processing,
            # so re-sending is safe whatever the method.
            resp.drain_conn()
            resp.release_conn()
            generation = "2025" if generation == "2026" else "2026"
            resp = self._send_signed(req, generation)
        if self._auto and resp.status != 401 and not req.pims:
            self._generation = generation
        return resp

    def _wait_before_retry(
        self, retry: Retry, req: _Request, cause: str, resp: urllib3.BaseHTTPResponse | None
    ) -> None:
        config = self.configuration
        wait = retry.get_retry_after(resp) if resp is not None else None
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
        if self._signer is not None:
            date = http_date()
            headers["date"] = date
            headers["Authorization"] = self._signer.authorization(
                generation, method, req.target, req.content_type, date
            )
        elif self._bearer is not None:
            headers["Authorization"] = self._bearer
        started = time.perf_counter()
        # Through the host's pool with the bare target when known (no second URL parse), else the
        # manager (other hosts, proxies).
        opener = req.pool.urlopen if req.pool is not None else self._http.urlopen
        resp = opener(
            method,
            req.target if req.pool is not None else req.url,
            body=body,
            headers=headers,
            timeout=req.timeout,
            retries=False,
            redirect=False,
            preload_content=False,
        )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.1f ms",
                method,
                redact_url(req.url),
                resp.status,
                (time.perf_counter() - started) * 1000,
            )
        return resp

    def _status_error(self, resp: urllib3.BaseHTTPResponse, method: str, url: str) -> APIStatusError:
        try:
            body = resp.read(MAX_ERROR_BODY)
        except HTTPError:
            body = b""
        finally:
            resp.release_conn()
        reason = resp.reason or ""
        if 300 <= resp.status < 400:
            location = resp.headers.get("Location", "?")
            reason = f"{reason} to {redact_url(location)}; set the configuration's host to the final server URL"
        return status_error_class(resp.status)(
            status=resp.status, reason=reason, method=method, url=url, body=body, headers=resp.headers
        )


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


def _timeout(value: float | tuple[float, float]) -> urllib3.Timeout:
    if isinstance(value, tuple):
        return urllib3.Timeout(connect=value[0], read=value[1])
    return urllib3.Timeout(connect=value, read=value)


def _encode_body(headers: dict[str, str], body: Any, post_params: Sequence[tuple[str, Any]] | None) -> bytes | None:
    """The request body as bytes; sets the exact Content-Type header that is sent (and signed)."""
    content_type = headers.get("Content-Type", "")
    if post_params:
        if content_type.startswith("multipart/form-data"):
            payload, headers["Content-Type"] = urllib3.encode_multipart_formdata(list(post_params))
            return payload
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return urlencode(list(post_params)).encode("ascii")
    if body is None:
        headers.pop("Content-Type", None)
        return None
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    headers["Content-Type"] = content_type or "application/json"
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_POOL_SETTINGS = ("verify_ssl", "ssl_ca_cert", "proxy", "pool_maxsize")


def _make_pool(configuration: Configuration) -> urllib3.PoolManager:
    pool_args: dict[str, Any] = {
        "maxsize": configuration.pool_maxsize,
        "cert_reqs": "CERT_REQUIRED" if configuration.verify_ssl else "CERT_NONE",
    }
    if configuration.ssl_ca_cert:
        pool_args["ca_certs"] = configuration.ssl_ca_cert
    if configuration.proxy:
        return urllib3.ProxyManager(configuration.proxy, **pool_args)
    return urllib3.PoolManager(**pool_args)
