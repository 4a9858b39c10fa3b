"""Fixture files: the data of a stub as JSON (always) or YAML (with pyyaml, the ``testing`` extra)."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._cytomine_stub import CytomineStub
    from ._state import StubAnnotation, StubImage, StubProject

__all__ = ["load", "read"]


def read(source: str | os.PathLike[str]) -> Mapping[str, Any]:
    """The mapping in a JSON or YAML fixture file."""
    path = Path(source)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            yaml = importlib.import_module("yaml")  # pyyaml: optional, and without type stubs here
        except ImportError as exc:
            raise ImportError(f"{path}: YAML fixtures need pyyaml: pip install 'cytomine-sdk[testing]' "
                              "(or write the fixture as JSON)") from exc
        data: Any = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a fixture is a mapping (users, ontologies, projects), not {type(data).__name__}")
    return data


def _items(spec: Mapping[str, Any], key: str) -> list[Any]:
    value = spec.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"fixture: {key!r} must be a list")
    return value


def _properties(stub: CytomineStub, target: StubProject | StubImage | StubAnnotation, spec: Mapping[str, Any]) -> None:
    for key, value in (spec.get("properties") or {}).items():
        stub.add_property(target, str(key), value)


def load(stub: CytomineStub, source: str | os.PathLike[str] | Mapping[str, Any]) -> None:
    """Add the users, ontologies and projects (with images, annotations, properties) of ``source``."""
    data = source if isinstance(source, Mapping) else read(source)
    unknown = set(data) - {"users", "ontologies", "projects"}
    if unknown:
        raise ValueError(f"fixture: unknown keys {sorted(unknown)} (expected users, ontologies, projects)")
    for user in _items(data, "users"):
        stub.add_user(user["username"], password=user.get("password"), id=user.get("id"),
                      firstname=user.get("firstname", "Test"), lastname=user.get("lastname"), email=user.get("email"))
    for ontology in _items(data, "ontologies"):
        created = stub.add_ontology(ontology["name"], id=ontology.get("id"))
        for term in _items(ontology, "terms"):
            if isinstance(term, str):
                stub.add_term(created, term)
            else:
                stub.add_term(created, term["name"], term.get("color"), id=term.get("id"))
    for project in _items(data, "projects"):
        made = stub.add_project(project["name"], ontology=project.get("ontology"), id=project.get("id"),
                                members=project.get("members") or (), managers=project.get("managers") or ())
        _properties(stub, made, project)
        for image in _items(project, "images"):
            options = {k: image[k] for k in ("width", "height", "magnification", "resolution", "id") if k in image}
            img = stub.add_image(made, image.get("filename", "slide.svs"), **options)
            _properties(stub, img, image)
            for annotation in _items(image, "annotations"):
                spec = {"location": annotation} if isinstance(annotation, str) else annotation
                (added,) = stub.add_annotations(img, [spec])
                if not isinstance(annotation, str):
                    _properties(stub, added, annotation)
