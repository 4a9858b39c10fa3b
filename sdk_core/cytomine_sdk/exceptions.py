"""Errors raised by the SDK: one base class, `CytomineError`.

    CytomineError
    ├── APIConnectionError          the server could not be reached (DNS, refused, reset, TLS)
    │   └── APITimeoutError         connect or read timeout
    ├── InvalidResponseError        the server answered something that cannot be parsed
    ├── ResponseTooLargeError       a binary answer too large for memory (stream it instead)
    ├── ClientClosedError           a call on a client that was closed
    ├── BearerTokenRequiredError    an endpoint that reads a bearer token, on a client with API keys
    ├── InvalidArgumentError        a wrong argument (also a TypeError and a ValueError); nothing sent
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
bodies (docs/server-facts.md section 3) and an excerpt of the body. Secrets never appear in them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

BODY_EXCERPT = 500
# Query parameters that carry credentials (download/thumb endpoints take a JWT in the query).
_SECRET_PARAMS = re.compile(r"(?i)([?&](?:authorization|auth|token|access_token)=)[^&#\s'\"]*")
# The password of a `user:password@` userinfo, in a URL of any scheme (hosts, proxies). The
# password runs to the last '@' of the authority, as URL parsers read it.
_USERINFO_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/?#@\s:'\"]*):[^/?#\s'\"]*@")
# Authorization header values, should one end up in a message (e.g. the repr of a headers dict).
_AUTHORIZATION_VALUES = re.compile(r"\b(CYTOMINE\s+[^\s:'\"]+:|[Bb]earer\s+)[A-Za-z0-9\-._~+/]+=*")
REDACTED = "<redacted>"


def redact_url(url: str) -> str:
    """`url` (or any text holding URLs) with the values of credential query parameters and the
    password of a ``user:password@`` userinfo replaced; the user name is kept."""
    url = _SECRET_PARAMS.sub(r"\1" + REDACTED, url)
    return _USERINFO_PASSWORD.sub(r"\1:" + REDACTED + "@", url)


def redact_secrets(text: str) -> str:
    """`text` with what `redact_url` hides and Authorization header values (signatures, bearer
    tokens) replaced."""
    return _AUTHORIZATION_VALUES.sub(r"\1" + REDACTED, redact_url(text))


class _Redacted:
    """Stands in for a log argument whose str() or repr() held a secret: both, redacted, so the
    record's format string (``%s`` or ``%r``) still works."""

    __slots__ = ("_repr", "_str")

    def __init__(self, value: object) -> None:
        self._str = redact_secrets(str(value))
        self._repr = redact_secrets(repr(value))

    def __str__(self) -> str:
        return self._str

    def __repr__(self) -> str:
        return self._repr


def _redacted_arg(value: object) -> object:
    if isinstance(value, str):
        return redact_secrets(value)
    if value is None or isinstance(value, (int, float)):
        return value  # numbers keep working with %d and %f
    try:
        text, shown = str(value), repr(value)
    except Exception:  # a broken __str__ is logging's problem, not a reason to fail
        return value
    if redact_secrets(text) == text and redact_secrets(shown) == shown:
        return value
    return _Redacted(value)


class RedactingFilter(logging.Filter):
    """Redacts credentials in the records of a logger: query tokens and userinfo passwords in
    URLs, and Authorization header values, wherever they are.

    Covers string arguments, arguments whose str() or repr() shows a URL (urllib3 logs `Retry`
    objects and exceptions), a message without arguments, and the text of a logged exception or
    stack. The filter never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact `record` in place; always keep it."""
        args = record.args
        if isinstance(args, Mapping):
            record.args = {key: _redacted_arg(value) for key, value in args.items()}
        elif isinstance(args, tuple) and args:
            record.args = tuple(_redacted_arg(value) for value in args)
        if isinstance(record.msg, str) and redact_secrets(record.msg) != record.msg:
            if record.args:
                # A secret in the format string itself: redacting it could break the
                # placeholders, so the record is formatted once and keeps only the result.
                try:
                    record.msg = redact_secrets(record.getMessage())
                except Exception:  # a bad format string: logging reports it as it would have
                    record.msg = redact_secrets(record.msg)
                record.args = None
            else:
                record.msg = redact_secrets(record.msg)
        elif not isinstance(record.msg, str):
            record.msg = _redacted_arg(record.msg)
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if redact_secrets(text) != text:
                # Formatters print exc_text when set; the exception itself is dropped so that
                # none formats it again from its traceback.
                record.exc_text = redact_secrets(text)
                record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_secrets(record.stack_info)
        return True


# Every logger of urllib3 2 (each module logs on its own): request lines, retries with their URL,
# redirects, header-parsing failures with the URL and exception, and whatever a later release adds.
URLLIB3_LOGGERS = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "urllib3.contrib.pyopenssl",
    "urllib3.http2.connection",
)


def redact_urllib3_logs() -> None:
    """Redact credentials in the records of urllib3's loggers (a filter applies only to records
    created on its own logger, so each module's logger gets one)."""
    for name in URLLIB3_LOGGERS:
        log = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in log.filters):
            log.addFilter(RedactingFilter())


class CytomineError(Exception):
    """Base class of every error raised by the SDK."""


class APIConnectionError(CytomineError):
    """The request could not be sent or its answer not received.

    `request_sent` tells whether the server may have acted on the request: False when the
    connection failed before any byte of it was sent (refused, DNS, connect timeout), so repeating
    it is safe; True when it went out and its answer was lost (reset, read timeout, cut body), so a
    write may have been done and repeating it may do it twice.
    """

    def __init__(self, message: str, *, method: str, url: str, request_sent: bool = True) -> None:
        self.method = method
        self.url: str = redact_url(url)
        self.request_sent = request_sent
        # urllib3's text may quote the URL (a proxy's, a pool's): redacted as well.
        super().__init__(f"{redact_secrets(message)} ({method} {self.url})")


class InvalidArgumentError(CytomineError, TypeError, ValueError):
    """An argument of a call is of the wrong type or value; nothing was sent. The message names
    the method and the argument, e.g. ``project_api.retrieve(): id must be an integer, got str '42'``."""


class BearerTokenRequiredError(CytomineError):
    """The operation needs the user's bearer token in the query (original downloads, thumbnails
    on 2025/2026 servers) and the client has none: it signs with API keys, which cannot give
    one. Log in with a username and password, or give a token (``Configuration(token=...)``)."""


class ClientClosedError(CytomineError):
    """A call on an ApiClient after `close()` (or after its `with` block)."""


class APITimeoutError(APIConnectionError):
    """The server did not accept the connection or answer within the timeout."""


class ResponseTooLargeError(CytomineError):
    """A binary answer too large to hold in memory: stream it instead."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        self.method = method
        self.url: str = redact_url(url)
        super().__init__(f"{message} ({method} {self.url})")


class InvalidResponseError(CytomineError):
    """The server's answer could not be parsed (e.g. invalid JSON where JSON was expected)."""

    def __init__(self, message: str, *, status: int, method: str, url: str, body: bytes | str) -> None:
        self.status = status
        self.method = method
        self.url: str = redact_url(url)
        self.body_excerpt: str = _excerpt(body)
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
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.method = method
        self.url: str = redact_url(url)
        self.headers: dict[str, str] = dict(headers)
        self.body = body
        self.body_excerpt: str = _excerpt(body)
        self.server_message: str | None = error_message(body)
        self.errors: Any = _json_or_none(body)
        self.hint = hint
        self._parts = (status, reason, method, url, body, dict(headers))
        detail = self.server_message or self.body_excerpt or "(empty body)"
        advice = f"; {hint}" if hint else ""
        super().__init__(f"HTTP {status} {reason}: {detail} ({method} {self.url}){advice}")


    def with_hint(self, hint: str) -> APIStatusError:
        """The same error, saying `hint` (what to check) in its message."""
        status, reason, method, url, body, headers = self._parts
        return type(self)(status=status, reason=reason, method=method, url=url, body=body, headers=headers, hint=hint)


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


# JSON members holding secrets: a legacy user's own JSON has its private key, a token answer its
# tokens. Their values never reach an error message's excerpt of a body.
_SECRET_MEMBERS = re.compile(
    r'("(?:privateKey|secondaryKey|password|newPassword|access_token|refresh_token|token)"\s*:\s*")[^"]*"'
)


def _excerpt(body: bytes | str) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = _SECRET_MEMBERS.sub(r'\1<redacted>"', redact_secrets(" ".join(text.split())))
    return text if len(text) <= BODY_EXCERPT else text[:BODY_EXCERPT] + "..."


def error_message(body: bytes) -> str | None:
    """The server's message from any Cytomine error body, or None.

    Shapes: `{"errors": "msg"}` (failed writes), `{"errors": {"message": "msg"}}` (exception
    handler), RFC 7807 `{"title", "detail"}` (2026 repository), `{"message": "msg"}`, PIMS
    `[{"error": "msg", ...}]` and `{"detail": ...}`, OAuth 2 (the IAM)
    `{"error": "invalid_grant", "error_description": "msg"}`.
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
    # OAuth 2 errors (the IAM's) put the message in error_description and a code in error.
    for key in ("detail", "message", "error_description", "error", "title"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None
