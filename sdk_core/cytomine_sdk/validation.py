"""Checks of user arguments: fail fast with a message naming the argument."""

from __future__ import annotations

from collections.abc import Iterable


def is_positive_int(value: object) -> bool:
    """An int above 0 (bools, although ints, are not)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def positive_int(name: str, value: object, what: str = "a positive integer") -> int:
    """`value`, or ValueError "name: expected <what>, got <value>"."""
    if not is_positive_int(value):
        raise ValueError(f"{name}: expected {what}, got {value!r}")
    assert isinstance(value, int)
    return value


def ids(name: str, values: Iterable[object], what: str = "an id") -> list[int]:
    """`values` as a list of ids, or ValueError naming the first wrong item ("name[i]: ...")."""
    out = list(values)
    for position, value in enumerate(out):
        positive_int(f"{name}[{position}]", value, what)
    return out  # type: ignore[return-value]
