"""Change some fields of a Cytomine object and keep the others: `update_fields`.

    from cytomine_sdk.updates import update_fields

    project = update_fields(api_client.project_api, 42, name="Margins study", blind_mode=True)

Cytomine has no PATCH: an update is a PUT of the whole object, and what a server does with the
fields a PUT leaves out depends on the object. For most objects (projects, images, annotations...
on every generation, and terms, ontologies, storages... on 2025 and legacy cores) the server
rebuilds the object from the body, so a field left out is reset to null or to its default, not
kept: `Project.buildDomainFromJson` (core/src/main/java/be/cytomine/domain/project/Project.java in
cytomine/cytomine, src/main/java/... in Cytomine-core; `insertDataIntoDomain` in the Grails core)
reads `blindMode` as false and `ontology` and `created` as null when absent, and refuses a missing
`name`. Only the objects of the 2026 repository service (ontologies, terms, relations, storages,
uploaded files, tags and their associations, users, roles) keep what a PUT leaves out
(`payload.name().orElse(entity.getName())`, repository/src/main/java/org/cytomine/repository/
service/*CommandService.java).

`update_fields` therefore fetches the object, changes the fields you name, and PUTs back everything
the server sent (read-only fields such as `created` included, which a model's `to_dict()` leaves
out), so nothing else changes, whatever the server.
"""

from __future__ import annotations

import difflib
import json
from typing import Any, Protocol, TypeVar, cast, overload

from pydantic import BaseModel

from cytomine_sdk.exceptions import InvalidArgumentError

__all__ = ["Updatable", "Updatable2", "Updatable3", "update_fields"]

M = TypeVar("M", bound=BaseModel)
K1 = TypeVar("K1", contravariant=True)
K2 = TypeVar("K2", contravariant=True)
K3 = TypeVar("K3", contravariant=True)


class Updatable(Protocol[K1, M]):
    """A service whose objects are found by one key: `retrieve(key)` and `update(key, obj)`
    (`api_client.project_api`, `api_client.configuration_api`...)."""

    def retrieve(self, key: K1, /) -> M:
        """Get the object."""
        ...

    def update(self, key: K1, body: M, /) -> M:
        """Put the whole object; return it as written."""
        ...


class Updatable2(Protocol[K1, K2, M]):
    """A service whose objects are found by two keys (`api_client.description_api`...)."""

    def retrieve(self, key1: K1, key2: K2, /) -> M:
        """Get the object."""
        ...

    def update(self, key1: K1, key2: K2, body: M, /) -> M:
        """Put the whole object; return it as written."""
        ...


class Updatable3(Protocol[K1, K2, K3, M]):
    """A service whose objects are found by three keys (`api_client.property_api`)."""

    def retrieve(self, key1: K1, key2: K2, key3: K3, /) -> M:
        """Get the object."""
        ...

    def update(self, key1: K1, key2: K2, key3: K3, body: M, /) -> M:
        """Put the whole object; return it as written."""
        ...


@overload
def update_fields(service: Updatable[K1, M], key: K1, /, **changes: object) -> M: ...
@overload
def update_fields(service: Updatable2[K1, K2, M], key1: K1, key2: K2, /, **changes: object) -> M: ...
@overload
def update_fields(service: Updatable3[K1, K2, K3, M], key1: K1, key2: K2, key3: K3, /, **changes: object) -> M: ...
def update_fields(service: Any, /, *key: Any, **changes: object) -> Any:
    """Change the fields named in `changes` of the object at `key`, keep every other field.

    `service` is any API service with `retrieve` and `update` (`api_client.project_api`), `key`
    what both take before the object (an id, or e.g. a domain class name and id). Fields are
    named as in Python (`blind_mode`, not `blindMode`); a field the spec does not declare can be
    changed by its JSON name if the server sent it (`model_extra`).

    Two requests: a GET of the object, then a PUT of everything the server sent with your changes
    applied (see the module docstring for why a PUT of the changes alone is not enough). Nothing
    is written if a change is refused. Not atomic: a change another client makes to the object
    between the two requests is overwritten. With no changes, nothing is written and the object
    as fetched is returned.

    Example:
        project = update_fields(api_client.project_api, 42, name="Margins study", blind_mode=True)

    Returns:
        The object as the server wrote it (what `update` returns).

    Raises:
        InvalidArgumentError: a field the model does not have, or a read-only one (the server
            computes it: `created`, `number_of_images`...), before anything is written.
        pydantic.ValidationError: a value of the wrong type (`name=12`), checked strictly as when
            you build a model.
        cytomine_sdk.exceptions.APIStatusError, APIConnectionError: from the GET or the PUT.
    """
    raw = service.with_raw_response.retrieve(*key)
    current = raw.parse()
    if not isinstance(current, BaseModel):
        raise InvalidArgumentError(f"update_fields(): the service answers {type(current).__name__}, not an object")
    if not changes:
        return current
    model = type(current)
    merged = current.model_copy(deep=True)
    aliases: dict[str, str] = {}
    for name, value in changes.items():
        field = model.model_fields.get(name)
        if field is None and name not in (current.model_extra or {}):
            raise InvalidArgumentError(f"update_fields(): {_unknown(model, name)}")
        setattr(merged, name, value)  # validated strictly (validate_assignment)
        aliases[name] = (field.alias or name) if field is not None else name
    body: dict[str, Any] = cast(Any, merged).to_dict()
    read_only = [name for name, value in changes.items() if value is not None and aliases[name] not in body]
    if read_only:
        raise InvalidArgumentError(
            f"update_fields(): {model.__name__}.{read_only[0]} is read-only: the server computes it, an update"
            " cannot change it"
        )
    # Send back what the server sent and to_dict() leaves out (read-only fields, nulls), unchanged.
    sent = json.loads(raw.content)
    changed = set(aliases.values())
    kept = {k: v for k, v in sent.items() if k not in body and k not in changed} if isinstance(sent, dict) else {}
    return service.update(*key, merged, extra_body=kept or None)


def _unknown(model: type[BaseModel], name: str) -> str:
    """The message for a field `model` does not have, with the field meant if it looks like one."""
    by_alias = {field.alias: python for python, field in model.model_fields.items() if field.alias}
    if name in by_alias:
        return f"{model.__name__} fields are named as in Python: {by_alias[name]}, not {name}"
    close = difflib.get_close_matches(name, list(model.model_fields), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{model.__name__} has no field {name!r}{hint}"
