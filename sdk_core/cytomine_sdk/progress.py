"""Progress reporting: a callback, a tqdm bar (the `progress` extra), or both."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

ProgressCallback = Callable[[int, "int | None"], None]
"""Called with (units done so far, total units or None when unknown)."""


class Progress:
    """Reports progress to an optional callback and an optional tqdm bar."""

    def __init__(
        self,
        total: int | None,
        *,
        bar: bool = False,
        callback: ProgressCallback | None = None,
        description: str = "",
        unit: str = "B",
    ) -> None:
        self.done: int = 0
        self.total = total
        self._callback = callback
        self._bar: Any = None
        if bar:
            try:
                from tqdm import tqdm
            except ImportError as exc:
                raise ImportError("progress=True needs tqdm: pip install 'cytomine-sdk[progress]'") from exc
            self._bar = tqdm(total=total, desc=description, unit=unit, unit_scale=unit == "B", leave=False)

    def advance(self, amount: int) -> None:
        """Count `amount` more units done."""
        self.done += amount
        if self._bar is not None:
            self._bar.update(amount)
        if self._callback is not None:
            self._callback(self.done, self.total)

    def restart(self, total: int | None) -> None:
        """Start over (e.g. a download that could not resume)."""
        self.done = 0
        self.total = total
        if self._bar is not None:
            self._bar.reset(total=total)
        if self._callback is not None:
            self._callback(0, total)

    def close(self) -> None:
        """Close the progress bar, if any."""
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
