"""Server-side check of Cytomine API-key signatures, written as a server would do it.

This module is the *independent oracle* the SDK's request signer is tested
against, and what :class:`cytomine_sdk.testing.CytomineStub` authenticates with, so it
deliberately imports nothing from the rest of ``cytomine_sdk`` (standard library only).
It follows the fact sheet (``docs/server-facts.md`` section 1.2):

* header ``Authorization: CYTOMINE <publicKey>:<base64 HMAC-SHA1>``; the value
  must start with ``CYTOMINE`` and contain a space and a colon; the public key
  is the text between the first space and the first colon, the signature is
  everything after the first colon;
* a request without a ``date`` or a ``host`` header is not checked at all (the
  servers silently skip API-key authentication, the caller stays anonymous);
* the canonical string depends on the server generation:

  - ``legacy`` (Grails) and ``2025``:
    ``METHOD\\nCONTENT_MD5\\nCONTENT_TYPE\\nDATE\\n`` + raw path + (``?`` + raw query, if any)
  - ``2026``: ``METHOD\\nCONTENT_MD5\\nCONTENT_TYPE\\nDATE`` (no path, no trailing newline)

* ``2025``/``2026`` retry a failed check with an empty content type, and they
  present ``application/json`` as the content type of a request whose path
  contains ``.json`` and that has no content type (or
  ``application/octet-stream``) - Spring's ``ContentTypeRequestWrapper``.
  Grails uses the content type exactly as sent and does not retry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

__all__ = [
    "GENERATIONS",
    "authenticate",
    "bearer_subject",
    "candidate_content_types",
    "canonical_string",
    "normalise_headers",
    "parse_cytomine_authorization",
    "sign",
    "split_target",
]

GENERATIONS: tuple[str, str, str] = ("2026", "2025", "legacy")

_BEARER = re.compile(r"^bearer (?P<token>[A-Za-z0-9\-._~+/]+=*)$", re.IGNORECASE)


def _check_generation(generation: str) -> None:
    if generation not in GENERATIONS:
        raise ValueError(f"unknown generation {generation!r}; expected one of {GENERATIONS}")


def normalise_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case header names; when a name occurs twice the first value wins (like ``getHeader``)."""
    result: dict[str, str] = {}
    for name, value in headers.items():
        result.setdefault(name.lower(), value)
    return result


def split_target(raw_target: str) -> tuple[str, str | None]:
    """Split a raw request target into (raw path, raw query or None), without decoding.

    An absolute-form target (``http://host/path?q``) is reduced to its path, as
    ``getRequestURI()`` does.  An empty query (``/path?``) counts as no query.
    """
    target = raw_target
    if target.lower().startswith(("http://", "https://")):
        parts = urlsplit(target)
        path = parts.path or "/"
        query = parts.query
    else:
        path, _, query = target.partition("?")
    return path, (query or None)


def canonical_string(
    generation: str,
    *,
    method: str,
    content_md5: str,
    content_type: str,
    date: str,
    path: str,
    query: str | None,
) -> str:
    """The string a server of ``generation`` signs (docs/server-facts.md section 1.2)."""
    _check_generation(generation)
    head = f"{method}\n{content_md5}\n{content_type}\n{date}"
    if generation == "2026":
        return head
    uri = path if not query else f"{path}?{query}"
    return f"{head}\n{uri}"


def sign(private_key: str, canonical: str) -> str:
    """Base64(HMAC-SHA1(private key, canonical string)), both UTF-8 encoded."""
    digest = hmac.new(private_key.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_cytomine_authorization(value: str) -> tuple[str, str] | None:
    """Return (public key, signature) from a ``CYTOMINE pub:sig`` header value, or None."""
    if not value.startswith("CYTOMINE"):
        return None
    space = value.find(" ")
    colon = value.find(":")
    if space < 0 or colon < 0 or colon < space:
        return None
    return value[space + 1 : colon], value[colon + 1 :]


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def candidate_content_types(generation: str, path: str, content_type: str | None) -> list[str]:
    """Content types a server of ``generation`` tries, in order, when checking a signature."""
    _check_generation(generation)
    sent = content_type if content_type is not None else ""
    if generation == "legacy":
        return [sent]
    presented = sent
    if ".json" in path and (sent == "" or _media_type(sent) == "application/octet-stream"):
        presented = "application/json"
    return [presented] if presented == "" else [presented, ""]


def authenticate(
    *,
    generation: str,
    method: str,
    raw_target: str,
    headers: Mapping[str, str],
    private_key_for: Callable[[str], str | None],
) -> str | None:
    """Return the public key of the authenticated caller, or None.

    ``raw_target`` is the request target exactly as received (path plus ``?query``,
    still percent-encoded).  ``private_key_for`` maps a public key to the private
    key of an *enabled* user, or returns None.
    """
    _check_generation(generation)
    h = normalise_headers(headers)
    authorization = h.get("authorization")
    if authorization is None:
        return None
    if h.get("date") is None or h.get("host") is None:
        return None
    parsed = parse_cytomine_authorization(authorization)
    if parsed is None:
        return None
    public_key, signature = parsed
    private_key = private_key_for(public_key)
    if private_key is None:
        return None
    path, query = split_target(raw_target)
    received = signature.encode("utf-8")
    for content_type in candidate_content_types(generation, path, h.get("content-type")):
        canonical = canonical_string(
            generation,
            method=method,
            content_md5=h.get("content-md5", ""),
            content_type=content_type,
            date=h["date"],
            path=path,
            query=query,
        )
        if hmac.compare_digest(sign(private_key, canonical).encode("ascii"), received):
            return public_key
    return None


def bearer_subject(headers: Mapping[str, str], tokens: Mapping[str, str]) -> str | None:
    """Username for ``Authorization: Bearer <token>`` (2025/2026 servers), or None.

    ``tokens`` maps an accepted token to its username (``preferred_username``).
    """
    value = normalise_headers(headers).get("authorization")
    if value is None:
        return None
    match = _BEARER.match(value)
    if match is None:
        return None
    return tokens.get(match.group("token"))
