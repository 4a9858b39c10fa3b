"""The base class of every generated model.

Copied verbatim into the generated package by `make generate` (generator/static/model_base.py);
generator/postprocess.py makes each model derive from `CytomineModel` instead of pydantic's
`BaseModel`. Models behave as pydantic models do, except for their repr, and share the
conversions below (`to_dict`, `from_dict`, `to_json`, `from_json`, `to_str`): a model module
holds its fields and the two sets those conversions read (`_read_only`, `_nullable`), not a copy
of the code.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Iterable
from typing import Any, ClassVar, Union

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from typing_extensions import Self

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

    # Python names of the fields the server computes (readOnly in the spec): to_dict() leaves them
    # out, except `id`, by which updates find their object. Set by each generated model.
    _read_only: ClassVar[frozenset[str]] = frozenset()
    # Python names of the nullable fields: to_dict() sends an explicit null for one that was set
    # to None (a None that was never set is left out).
    _nullable: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """The model as the JSON object a write sends: server names, fields that are None left
        out (but an explicit null for a nullable field set to None), read-only fields left out,
        nested models converted the same way. Unknown fields the server sent are kept."""
        cls = type(self)
        out = self.model_dump(by_alias=True, exclude=cls._read_only, exclude_none=True)
        nested, nullable = _layout(cls)
        for name, key, is_list in nested:
            value = getattr(self, name)
            if value:
                out[key] = [_to_dict(item) for item in value] if is_list else _to_dict(value)
        if nullable:
            fields_set = self.model_fields_set
            for name, key in nullable:
                if name in fields_set and getattr(self, name) is None:
                    out[key] = None
        return out

    @classmethod
    def from_dict(cls, obj: dict[str, Any] | None) -> Self | None:
        """A model from a JSON object as a server sends it (None for None): validated leniently,
        numbers and strings converted, nested models and unknown fields included."""
        if obj is None:
            return None
        return cls.model_validate(obj, strict=False)

    def to_json(self) -> str:
        """`to_dict()` as a JSON string."""
        return json.dumps(to_jsonable_python(self.to_dict()))

    @classmethod
    def from_json(cls, json_str: str) -> Self | None:
        """`from_dict()` of a JSON string."""
        return cls.from_dict(json.loads(json_str))

    def to_str(self) -> str:
        """Every field, by its server name, pretty-printed."""
        import pprint  # only here: most programs never print a model this way

        return pprint.pformat(self.model_dump(by_alias=True))


def _to_dict(value: Any) -> Any:
    return value.to_dict() if isinstance(value, CytomineModel) else value


@functools.cache
def _layout(cls: type[CytomineModel]) -> tuple[tuple[tuple[str, str, bool], ...], tuple[tuple[str, str], ...]]:
    """What to_dict() needs of a model class, worked out once: its fields holding a model or a
    list of models (name, JSON key, is a list), and its nullable fields (name, JSON key)."""
    # A read-only field stays out whatever it holds (openapi-generator's to_dict() sent a read-only
    # list of models, or null for a read-only nullable field, all the same).
    fields = [(name, field) for name, field in cls.model_fields.items() if name not in cls._read_only]
    nested = tuple(
        (name, field.alias or name, is_list)
        for name, field in fields
        if (is_list := _model_of(field.annotation)) is not None
    )
    nullable = tuple((name, field.alias or name) for name, field in fields if name in cls._nullable)
    return nested, nullable


def _model_of(annotation: Any) -> bool | None:
    """True for a list of models, False for a model (optional or not), None otherwise."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            return None
        annotation = args[0]
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation) or (None,)
        return True if isinstance(item, type) and issubclass(item, CytomineModel) else None
    if isinstance(annotation, type) and issubclass(annotation, CytomineModel):
        return False
    return None

