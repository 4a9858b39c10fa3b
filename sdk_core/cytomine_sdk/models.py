"""The typed models of the Cytomine API, generated from spec/ (e.g. `models.Project`).

Each model module is imported on first use of its name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import cytomine_sdk_gen.models as _generated

if TYPE_CHECKING:
    from cytomine_sdk_gen.models import *  # noqa: F403


def __getattr__(name: str) -> Any:
    return getattr(_generated, name)


def __dir__() -> list[str]:
    return sorted(_generated.__all__)
