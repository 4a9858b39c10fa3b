"""The base class of every generated model.

Copied verbatim into the generated package by `make generate` (generator/static/model_base.py);
generator/postprocess.py makes each model derive from `CytomineModel` instead of pydantic's
`BaseModel`. Models behave as pydantic models do, except for their repr.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

# Fields holding secrets (Python and JSON names): a user's own JSON carries its private key on
# legacy servers and in 2026 records, /api/user/current/keys both keys. Shown as <redacted>.
SECRET_FIELDS = frozenset({
    "private_key", "privateKey", "secondary_key", "secondaryKey", "password", "new_password", "newPassword",
    "token", "access_token", "refresh_token",
})


class CytomineModel(BaseModel):
    """A pydantic model whose `repr()` (and `str()`) shows only the fields that were set, and
    never the value of a secret (private keys, passwords, tokens).

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
                yield name, "<redacted>" if name in SECRET_FIELDS and value is not None else value
