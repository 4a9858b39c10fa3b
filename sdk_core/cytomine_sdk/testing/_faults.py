"""Fault injection: what :meth:`CytomineStub.fail` returns and how an answer is altered."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Drift", "Fault"]


@dataclass(frozen=True)
class Drift:
    """A change of the JSON answers of a route, as a newer or older server would answer.

    Applied to the answered object, to each item of a list envelope's ``collection``, and to the
    ``data`` record of a 2026 write answer: ``drop`` removes fields, ``rename`` renames them
    (``{"name": "title"}``), ``retype`` replaces values, typically by one of another type
    (``{"id": "12"}``), and ``extra`` adds fields the SDK does not know.
    """

    extra: Mapping[str, Any] = field(default_factory=dict)
    rename: Mapping[str, str] = field(default_factory=dict)
    retype: Mapping[str, Any] = field(default_factory=dict)
    drop: Sequence[str] = ()

    def apply_to_object(self, obj: dict[str, Any]) -> dict[str, Any]:
        """One JSON object, changed."""
        result = {k: v for k, v in obj.items() if k not in self.drop}
        for old, new in self.rename.items():
            if old in result:
                result[new] = result.pop(old)
        for name, value in self.retype.items():
            if name in result:
                result[name] = value
        result.update(self.extra)
        return result

    def __call__(self, payload: Any) -> Any:
        """A JSON answer, changed (lists and envelopes item by item)."""
        if isinstance(payload, list):
            return [self(item) for item in payload]
        if not isinstance(payload, dict):
            return payload
        if isinstance(payload.get("collection"), list):
            return {**payload, "collection": [self(item) for item in payload["collection"]]}
        if isinstance(payload.get("data"), dict) and "commandId" in payload:
            return {**payload, "data": self.apply_to_object(payload["data"])}
        return self.apply_to_object(payload)


_PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w*(?::(?:int|str))?\}")


def _path_pattern(template: str) -> re.Pattern[str]:
    """``/api/project/{id}.json`` -> a regex; a placeholder matches one path segment (or part)."""
    parts: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        parts.append(r"[^/]+?")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts))


@dataclass
class Fault:
    """One injected fault (see :meth:`CytomineStub.fail`); ``hits`` counts the requests it altered."""

    method: str
    template: str
    status: int | None = None
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset_after: int | None = None
    drift: Drift | Callable[[Any], Any] | None = None
    times: int | None = None
    hits: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self._pattern = _path_pattern(self.template)

    @property
    def active(self) -> bool:
        """False once it altered ``times`` requests."""
        return self.times is None or self.hits < self.times

    def matches(self, method: str, path: str) -> bool:
        """Whether a request to ``method path`` is one this fault alters (ignoring ``times``)."""
        return self.method in ("*", method.upper()) and self._pattern.fullmatch(path) is not None

    def claim(self, method: str, path: str) -> bool:
        """Count one hit if this fault alters ``method path`` now."""
        if not self.matches(method, path):
            return False
        with self._lock:
            if not self.active:
                return False
            self.hits += 1
            return True

    def drift_body(self, body: bytes) -> bytes:
        """``body`` (a JSON answer) changed by ``drift``; other bodies unchanged."""
        if self.drift is None or not body:
            return body
        try:
            payload = json.loads(body)
        except ValueError:
            return body
        return json.dumps(self.drift(payload), ensure_ascii=False).encode("utf-8")
