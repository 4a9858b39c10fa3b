"""API-key request signing for every Cytomine server generation (docs/server-facts.md section 1.2).

All generations sign Base64(HMAC-SHA1(private key, canonical string)) and read it from
`Authorization: CYTOMINE <public key>:<signature>`; they differ in the canonical string:

- 2026 core (and PIMS): ``METHOD\\nCONTENT-MD5\\nCONTENT-TYPE\\nDATE`` with no path;
- 2025 Spring core and legacy Grails core: the same plus ``\\n`` and the request target (path and
  ``?query`` exactly as sent). Both compute the same string for a client, so one scheme serves them.

The SDK never sends Content-MD5, so that line is empty. The content type is the header exactly as
sent (for multipart bodies, with its boundary) and empty when no body is sent.
"""

from __future__ import annotations

import base64
import hmac
import time
from email.utils import formatdate
from typing import Final, Literal

Generation = Literal["2026", "2025", "legacy"]
SignatureSetting = Literal["auto", "2026", "2025", "legacy"]
SIGNATURE_SETTINGS: Final = ("auto", "2026", "2025", "legacy")


_last_date: tuple[int, str] = (0, "")


def http_date() -> str:
    """The current time as an RFC 1123 date, for the `date` header (formatted once a second)."""
    global _last_date
    now = int(time.time())
    if _last_date[0] != now:
        _last_date = (now, formatdate(now, usegmt=True))
    return _last_date[1]


def canonical_string(
    generation: Generation, method: str, target: str, content_type: str, date: str
) -> str:
    """The text a server of `generation` signs for this request (see the module docstring)."""
    head = f"{method}\n\n{content_type}\n{date}"
    if generation == "2026":
        return head
    return f"{head}\n{target}"


class KeySigner:
    """Signs requests with a user's API key pair; never shows the private key."""

    __slots__ = ("_key", "public_key")

    def __init__(self, public_key: str, private_key: str) -> None:
        self.public_key: str = public_key
        self._key = private_key.encode("utf-8")

    def authorization(
        self, generation: Generation, method: str, target: str, content_type: str, date: str
    ) -> str:
        """The `Authorization` header value for a request."""
        message = canonical_string(generation, method, target, content_type, date)
        digest = hmac.digest(self._key, message.encode("utf-8"), "sha1")
        return f"CYTOMINE {self.public_key}:{base64.b64encode(digest).decode('ascii')}"

    def __repr__(self) -> str:
        return f"KeySigner(public_key={self.public_key!r}, private_key=<redacted>)"
