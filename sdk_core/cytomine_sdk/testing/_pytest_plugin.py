"""The pytest plugin of ``cytomine_sdk.testing``: fixtures ``cytomine_stub`` and ``cytomine_client``.

Registered by the package's ``pytest11`` entry point (name ``cytomine``) whenever cytomine-sdk is
installed: the fixtures cost nothing until a test asks for them, and the stub needs nothing
beyond the standard library. ``-p no:cytomine`` turns the plugin off.

* ``cytomine_stub``: a started :class:`~cytomine_sdk.testing.CytomineStub`, stopped after the
  test. A test using it (or ``cytomine_client``) runs once per generation: all three by default,
  ``--cytomine-generation 2026`` (repeatable) or the ini option ``cytomine_generations`` to
  choose, ``@pytest.mark.cytomine(generations=["2025"])`` for one test, or
  ``@pytest.mark.parametrize("cytomine_stub", ["legacy"], indirect=True)``. The marker's other
  keyword arguments go to the stub (``seed=False``, ``fixture="data.yaml"``, ...).
* ``cytomine_client``: an :class:`~cytomine_sdk.ApiClient` connected to ``cytomine_stub`` with
  its API keys, closed after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cytomine_sdk.client import ApiClient

from ._auth import GENERATIONS
from ._cytomine_stub import CytomineStub

__all__ = ["cytomine_client", "cytomine_stub"]

_MARKER = "cytomine"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cytomine", "Cytomine stub (cytomine_sdk.testing)")
    group.addoption("--cytomine-generation", action="append", dest="cytomine_generations", default=None,
                    choices=GENERATIONS, help="run the tests using cytomine_stub against this generation "
                    "(repeatable; default: all three)")
    parser.addini("cytomine_generations", "generations cytomine_stub is parametrised with (default: all three)",
                  type="args", default=[])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(generations=None, **options): the generations cytomine_stub runs against, and options "
        "of CytomineStub (seed=False, fixture='data.json', ...)",
    )


def _parametrized_directly(metafunc: pytest.Metafunc) -> bool:
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        listed = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        if "cytomine_stub" in listed:
            return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cytomine_stub" not in metafunc.fixturenames or _parametrized_directly(metafunc):
        return
    marker = metafunc.definition.get_closest_marker(_MARKER)
    config = metafunc.config
    chosen = (marker.kwargs.get("generations") if marker else None) or config.getoption("cytomine_generations") \
        or config.getini("cytomine_generations") or list(GENERATIONS)
    generations = [chosen] if isinstance(chosen, str) else list(chosen)
    unknown = set(generations) - set(GENERATIONS)
    if unknown:
        raise pytest.UsageError(f"unknown Cytomine generations {sorted(unknown)}; expected some of {GENERATIONS}")
    metafunc.parametrize("cytomine_stub", generations, indirect=True, ids=generations)


@pytest.fixture
def cytomine_stub(request: pytest.FixtureRequest) -> Iterator[CytomineStub]:
    """A started CytomineStub of the test's generation (see the module docstring)."""
    generation = str(getattr(request, "param", "2026"))
    marker = request.node.get_closest_marker(_MARKER)
    options: dict[str, Any] = {k: v for k, v in marker.kwargs.items() if k != "generations"} if marker else {}
    with CytomineStub(generation, **options) as stub:
        yield stub


@pytest.fixture
def cytomine_client(cytomine_stub: CytomineStub) -> Iterator[ApiClient]:
    """An ApiClient connected to ``cytomine_stub`` with its API keys."""
    with cytomine_stub.client() as client:
        yield client
