"""Whom and what a client talks to: the current user and the server's generation.

    me = api_client.whoami()
    print(me.user.username, me.generation)      # e.g. "demo", "2026"

The generation is told apart by what the servers answer to ``GET /api/user/current.json``
(docs/server-facts.md section 4): the legacy Grails core names its classes ``be.cytomine.security.User`` (no
``domain`` package) and sends dates as strings; the 2026 core sends the dates of a user as
epoch-millisecond numbers; the 2025 core's user JSON has no dates at all. The signing scheme
the server accepted (2026, or 2025/legacy) settles what the JSON leaves open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from cytomine_sdk.models import User

ServerGeneration = Literal["2026", "2025", "legacy"]


@dataclass(frozen=True)
class WhoAmI:
    """The current user and the server's generation (see the module documentation)."""

    user: User
    generation: ServerGeneration
    # The signing scheme the server accepted ("2026", or "2025" for 2025 and legacy servers);
    # None when the client sends a bearer token instead of signing.
    signing: str | None


def detect_generation(user: Mapping[str, Any], signing: str | None) -> ServerGeneration:
    """The generation of the server that answered `user` (the JSON of the current user)."""
    java_class = str(user.get("class") or "")
    if java_class.startswith("be.cytomine.") and ".domain." not in java_class:
        return "legacy"
    created = user.get("created")
    if isinstance(created, (int, float)) and not isinstance(created, bool):
        return "2026"
    if signing == "2026":
        return "2026"
    if isinstance(created, str):  # epoch milliseconds as a string: legacy domain JSON
        return "legacy"
    return "2025"
