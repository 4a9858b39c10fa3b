"""The base class of every generated model.

Copied verbatim into the generated package by `make generate` (generator/static/model_base.py);
generator/postprocess.py makes each model derive from `CytomineModel` instead of pydantic's
`BaseModel`. Models behave as pydantic models do, except for their repr.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel


class CytomineModel(BaseModel):
    """A pydantic model whose `repr()` (and `str()`) shows only the fields that were set.

    A field is set when the server's JSON holds it (even as `null`) or when you passed or assigned
    it; fields the spec does not know (`model_extra`) are always shown. A Cytomine object declares
    dozens of optional fields and a server sends a few: `Project(id=42, name='Margins study')`
    rather than twenty-three `=None`.
    """

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        fields_set = self.model_fields_set
        declared = type(self).model_fields
        for name, value in super().__repr_args__():
            if name is None or name in fields_set or name not in declared:
                yield name, value
