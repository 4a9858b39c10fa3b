"""Errors raised by the SDK: one base class, `CytomineError`.

    CytomineError
    ├── APIConnectionError          the server could not be reached (DNS, refused, reset, TLS)
    │   └── APITimeoutError         connect or read timeout
    ├── InvalidResponseError        the server answered something that cannot be parsed
    ├── ResponseTooLargeError       a binary answer too large for memory (stream it instead)
    └── APIStatusError              the server answered with an error status
        ├── BadRequestError         400
        ├── AuthenticationError     401 (wrong keys, wrong signing scheme, expired token)
        ├── PermissionDeniedError   403
        ├── NotFoundError           404
        ├── ConflictError           409
        ├── RateLimitError          429
        └── InternalServerError     5xx

Every error names the request (method and URL, with credentials in the query redacted);
status errors also carry the status, the server's message extracted from any of Cytomine's error
bodies (facts.md section 3) and an excerpt of the body. Secrets never appear in them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

BODY_EXCERPT = 500
# Query parameters that carry credentials (download/thumb endpoints take a JWT in the query).
_SECRET_PARAMS = re.compile(r"(?i)([?&](?:authorization|auth|token|access_token)=)[^&#]*")


def redact_url(url: str) -> str:
    """`url` with the values of credential query parameters replaced."""
    return _SECRET_PARAMS.sub(r"\1<redacted>", url)


class RedactingFilter(logging.Filter):
    """Redacts credential query parameters in the records of a logger (urllib3 logs request lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "=" in a for a in record.args):
            record.args = tuple(redact_url(a) if isinstance(a, str) else a for a in record.args)
        return True


class CytomineError(Exception):
    """Base class of every error raised by the SDK."""


class APIConnectionError(CytomineError):
    """The request could not be sent or its answer not received."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        self.method = method
        self.url = redact_url(url)
        super().__init__(f"{message} ({method} {self.url})")


class APITimeoutError(APIConnectionError):
    """The server did not accept the connection or answer within the timeout."""


class ResponseTooLargeError(CytomineError):
    """A binary answer too large to hold in memory: stream it instead."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        self.method = method
        self.url = redact_url(url)
        super().__init__(f"{message} ({method} {self.url})")


class InvalidResponseError(CytomineError):
    """The server's answer could not be parsed (e.g. invalid JSON where JSON was expected)."""

    def __init__(self, message: str, *, status: int, method: str, url: str, body: bytes | str) -> None:
        self.status = status
        self.method = method
        self.url = redact_url(url)
        self.body_excerpt = _excerpt(body)
        super().__init__(f"{message} (HTTP {status}, {method} {self.url}): {self.body_excerpt!r}")


class APIStatusError(CytomineError):
    """The server answered with an error status."""

    status: int

    def __init__(
        self,
        *,
        status: int,
        reason: str,
        method: str,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
    ) -> None:
        self.status = status
        self.reason = reason
        self.method = method
        self.url = redact_url(url)
        self.headers = dict(headers)
        self.body = body
        self.body_excerpt = _excerpt(body)
        self.server_message = error_message(body)
        self.errors: Any = _json_or_none(body)
        detail = self.server_message or self.body_excerpt or "(empty body)"
        super().__init__(f"HTTP {status} {reason}: {detail} ({method} {self.url})")


class BadRequestError(APIStatusError):
    """400: the server refused the arguments."""


class AuthenticationError(APIStatusError):
    """401: not authenticated (wrong keys, wrong signing scheme, expired token)."""


class PermissionDeniedError(APIStatusError):
    """403: authenticated but not allowed."""


class NotFoundError(APIStatusError):
    """404: no such object or path."""


class ConflictError(APIStatusError):
    """409: the object conflicts with an existing one."""


class RateLimitError(APIStatusError):
    """429: too many requests."""


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status."""
    if status >= 500:
        return InternalServerError
    return _BY_STATUS.get(status, APIStatusError)


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _excerpt(body: bytes | str) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text if len(text) <= BODY_EXCERPT else text[:BODY_EXCERPT] + "..."


def error_message(body: bytes) -> str | None:
    """The server's message from any Cytomine error body, or None.

    Shapes: `{"errors": "msg"}` (failed writes), `{"errors": {"message": "msg"}}` (exception
    handler), RFC 7807 `{"title", "detail"}` (2026 repository), `{"message": "msg"}`, PIMS
    `[{"error": "msg", ...}]` and `{"detail": ...}`.
    """
    data = _json_or_none(body)
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]
    if not isinstance(data, dict):
        return None
    errors = data.get("errors")
    if isinstance(errors, str) and errors:
        return errors
    if isinstance(errors, dict) and isinstance(errors.get("message"), str):
        return str(errors["message"])
    for key in ("detail", "message", "error", "title"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None
