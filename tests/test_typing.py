"""Models take Python names in code and keep the server's names on the wire; the API is typed.

What type checkers see is checked statically by `make typecheck-docs` (tests/support/type_assertions.py,
the README blocks and examples/ under mypy --strict and pyright). This file checks the generated
source those checkers read, and the run-time behaviour that goes with it.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

import pydantic
import pytest

import cytomine_sdk_gen.models as generated
from cytomine_sdk import models
from cytomine_sdk.parsing import parse_model

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))
import spec_index  # noqa: E402

GEN = Path(generated.__file__).resolve().parent.parent
MODEL_FILES = sorted(p for p in (GEN / "models").glob("*.py") if p.name != "__init__.py")
API_FILES = sorted((GEN / "api").glob("*.py"))
MODEL_CLASSES = [
    cls for name in generated.__all__
    if isinstance(cls := getattr(generated, name), type) and issubclass(cls, pydantic.BaseModel)
]


def test_type_checkers_see_python_names_and_a_typed_config() -> None:
    # dataclass_transform: checkers take a field's constructor name from the `alias` of its
    # `= Field(...)`, so the server name lives in Annotated metadata, which only pydantic reads.
    problems = []
    for path in MODEL_FILES:
        cls = next(n for n in ast.parse(path.read_text(encoding="utf-8")).body if isinstance(n, ast.ClassDef))
        for node in cls.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "model_config" for t in node.targets):
                problems.append(f"{path.name}: model_config is not annotated")
            if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
                continue
            if node.target.id == "model_config" and ast.unparse(node.annotation) != "ClassVar[ConfigDict]":
                problems.append(f"{path.name}: model_config: {ast.unparse(node.annotation)}")
            if isinstance(node.value, ast.Call) and any(k.arg == "alias" for k in node.value.keywords):
                problems.append(f"{path.name}: {node.target.id} has its alias where type checkers read it")
    assert MODEL_FILES and not problems


def _spec_properties(spec: spec_index.Spec, node: Any, base: Path) -> list[str]:
    """The JSON names a spec schema declares: its allOf parts' properties, then its own."""
    node, base = spec.deref(node, base)
    names: list[str] = []
    for part in node.get("allOf") or []:
        names += [n for n in _spec_properties(spec, part, base) if n not in names]
    return names + [n for n in node.get("properties") or {} if n not in names]


def test_json_names_are_the_servers() -> None:
    # the JSON names each schema of the spec declares, against what pydantic reads and writes
    spec = spec_index.Spec(ROOT / "spec" / "openapi.yaml")
    schemas: dict[str, tuple[Any, Path]] = {}
    for file in [ROOT / "spec" / "common.yaml", *sorted((ROOT / "spec" / "services").glob("*.yaml"))]:
        for name, schema in ((spec.load(file).get("components") or {}).get("schemas") or {}).items():
            schemas.setdefault(name, (schema, file.resolve()))
    assert len(MODEL_CLASSES) > 300
    for model in MODEL_CLASSES:
        json_names = [f.alias or name for name, f in model.model_fields.items()]
        declared = _spec_properties(spec, *schemas[model.__name__])
        assert sorted(json_names) == sorted(declared) and len(set(json_names)) == len(json_names), model.__name__
        for name, field in model.model_fields.items():
            where = f"{model.__name__}.{name}"
            if field.alias is None:
                assert (field.validation_alias, field.serialization_alias) == (None, None), where
            else:
                assert field.validation_alias == field.serialization_alias == field.alias != name, where


def test_api_signatures_have_no_any() -> None:
    # every argument and answer of every operation is a precise type (a JSON value is `object`)
    for path in [*API_FILES, GEN / "services.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                annotations = [a.annotation for a in (*node.args.args, *node.args.kwonlyargs) if a.annotation]
                for annotation in [*annotations, node.returns]:
                    text = ast.unparse(annotation) if annotation is not None else "None"
                    assert "Any" not in text.replace("Api", ""), f"{path.name}: {node.name}: {text}"


def test_models_are_built_by_python_name_and_sent_with_server_names() -> None:
    project = models.Project(name="x", is_restricted=True, blind_mode=False, ontology=3)
    assert project.is_restricted is True
    assert project.to_dict() == {"name": "x", "isRestricted": True, "blindMode": False, "ontology": 3}
    assert project.model_dump(by_alias=True, exclude_none=True) == project.to_dict()
    assert json.loads(project.to_json()) == project.to_dict()
    assert "is_restricted" not in project.to_json()
    # nested models too
    command = models.ProjectCommand(project=project, message="created")
    assert command.to_dict()["project"]["isRestricted"] is True
    # `class` is a Python keyword: the field is java_class
    assert models.Project(java_class="be.cytomine.domain.project.Project").model_dump(by_alias=True)["class"]


def test_server_names_still_validate() -> None:
    # server JSON, and (untyped, for code written before) the server names as keywords
    assert models.Project.model_validate({"isRestricted": True}).is_restricted is True
    assert models.Project(isRestricted=True).is_restricted is True  # type: ignore[call-arg]
    assert models.Project.from_dict({"blindMode": "true", "numberOfImages": "3"}) == models.Project(
        blind_mode=True, number_of_images=3)
    assert parse_model(models.Project, b'{"isClosed": 1, "class": "P"}').is_closed is True


def test_models_stay_strict_with_users() -> None:
    with pytest.raises(pydantic.ValidationError):
        models.Project(name=12)  # type: ignore[arg-type]
    with pytest.raises(pydantic.ValidationError):
        models.Project(is_restricted="yes")  # type: ignore[arg-type]
    project = models.Project()
    with pytest.raises(pydantic.ValidationError):
        project.ontology = "3"  # type: ignore[assignment]
