"""The API client: signs every request, sends it over one urllib3 pool, raises typed errors.

It reuses the generated client's request building and response parsing, and replaces its
transport (`call_api`): the request is signed only once its final URL, body and content type are
known, which is what Cytomine servers check (facts.md section 1.2).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import urllib3
from cytomine_sdk_gen.api_client import ApiClient as _GeneratedApiClient
from cytomine_sdk_gen.rest import RESTResponse
from cytomine_sdk_gen.service_apis import ServiceApis
from urllib3.exceptions import HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as _Urllib3Timeout
from urllib3.util import parse_url

from cytomine_sdk import __version__
from cytomine_sdk.configuration import Configuration
from cytomine_sdk.exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InvalidResponseError,
    redact_url,
    status_error_class,
)
from cytomine_sdk.signing import Generation, KeySigner, http_date

logger = logging.getLogger("cytomine_sdk")

USER_AGENT = f"cytomine-sdk/{__version__} (python)"
# Error bodies are read whole up to this size for the exception's message.
MAX_ERROR_BODY = 1 << 20
Timeout = float | tuple[float, float] | None


class _Response(RESTResponse):
    """The generated client's response wrapper, remembering the request and typing read errors."""

    def __init__(self, resp: urllib3.BaseHTTPResponse, method: str, url: str) -> None:
        super().__init__(resp)
        self.method = method
        self.url = url

    def read(self) -> bytes:
        try:
            data: bytes = super().read()  # type: ignore[no-untyped-call]
        except HTTPError as exc:
            raise _transport_error(exc, self.method, self.url) from exc
        return data


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
        self.configuration = configuration
        self.default_headers: dict[str, str] = {"User-Agent": USER_AGENT}
        self.cookie = None
        self.client_side_validation = True
        self._signer = (
            KeySigner(configuration.public_key, configuration.private_key)
            if configuration.public_key and configuration.private_key
            else None
        )
        self._bearer = f"Bearer {configuration.token}" if configuration.token else None
        self._auto = configuration.signature == "auto"
        # The scheme last accepted by the server (auto), or the configured one.
        self._generation: Generation = "2026" if self._auto else configuration.signature  # type: ignore[assignment]
        self._timeout = urllib3.Timeout(connect=configuration.connect_timeout, read=configuration.read_timeout)
        self._http = _make_pool(configuration)

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
        return _Response(resp, method, url)

    def response_deserialize(
        self, response_data: RESTResponse, response_types_map: dict[str, Any] | None = None
    ) -> Any:
        """Parse a response with the generated models; unparseable answers raise InvalidResponseError."""
        try:
            return super().response_deserialize(response_data, response_types_map)
        except ValueError as exc:
            raise InvalidResponseError(
                f"cannot parse the answer: {exc}",
                status=response_data.status,
                method=getattr(response_data, "method", "?"),
                url=getattr(response_data, "url", "?"),
                body=response_data.data or b"",
            ) from exc

    # -- transport ---------------------------------------------------------------------------

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: Timeout = None,
    ) -> urllib3.BaseHTTPResponse:
        """Send one request with credentials and return the response, body not yet read.

        `url` is absolute or a path below the configured host. Error statuses raise a subclass of
        APIStatusError; with ``signature="auto"`` a 401 is retried once with the other scheme.
        """
        if not url.startswith(("http://", "https://")):
            url = self.configuration.host + url
        method = method.upper()
        request_headers = dict(headers or {})
        # The request target urllib3 sends, which 2025/legacy servers sign.
        target = parse_url(url).request_uri
        content_type = request_headers.get("Content-Type", "")
        generation = self._generation
        resp = self._send_signed(generation, method, url, target, content_type, request_headers, body, timeout)
        if resp.status == 401 and self._auto and self._signer is not None:
            resp.drain_conn()
            resp.release_conn()
            generation = "2025" if generation == "2026" else "2026"
            resp = self._send_signed(generation, method, url, target, content_type, request_headers, body, timeout)
        if self._auto and resp.status != 401:
            self._generation = generation
        if resp.status >= 300 and resp.status != 304:
            raise self._status_error(resp, method, url)
        return resp

    def _send_signed(
        self,
        generation: Generation,
        method: str,
        url: str,
        target: str,
        content_type: str,
        headers: dict[str, str],
        body: bytes | None,
        timeout: Timeout,
    ) -> urllib3.BaseHTTPResponse:
        if self._signer is not None:
            date = http_date()
            headers["date"] = date
            headers["Authorization"] = self._signer.authorization(generation, method, target, content_type, date)
        elif self._bearer is not None:
            headers["Authorization"] = self._bearer
        started = time.perf_counter()
        try:
            resp = self._http.urlopen(
                method,
                url,
                body=body,
                headers=headers,
                timeout=self._timeout if timeout is None else _timeout(timeout),
                retries=False,
                redirect=False,
                preload_content=False,
            )
        except HTTPError as exc:
            raise _transport_error(exc, method, url) from exc
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.1f ms",
                method,
                redact_url(url),
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
