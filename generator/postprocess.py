"""Post-processing of openapi-generator's output, applied by generate.py.

openapi-generator renders only the models (generator/config.yaml); this step turns its output into
the package sdk/ ships:
- only the models are kept (models/*.py and their lazy-importing __init__.py);
- models are made lenient with servers and strict with users (make_models_lenient), and typed
  for type checkers: constructors take the Python names, JSON keeps the server's (_python_init_names);
- models derive from model_base.CytomineModel (generator/static/model_base.py, copied verbatim),
  whose repr shows the fields that were set only and which holds the conversions
  (to_dict/from_dict/to_json/from_json/to_str): the generator's copy of them in every model is
  replaced by the two sets they read (read-only and nullable fields); unused imports are dropped;
- render_api.py writes the rest from the spec: runtime.py, the operation table (operations.py),
  one API class per service (api/*.py), services.py and the package's __init__.py;
- the package replaces the previous one at once (a concurrent import never sees half of it).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from render_api import render_package
from spec_index import Spec

MODEL_BASE = Path(__file__).resolve().parent / "static" / "model_base.py"

ENUM_MISSING = '''

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        # A value added by a newer server becomes a member of its own instead of an error.
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member
'''

# Annotated: BaseModel declares it `ClassVar[ConfigDict]`, an unannotated override is ambiguous.
MODEL_CONFIG = """model_config: ClassVar[ConfigDict] = ConfigDict(
        # Strict when users build models; server data is validated with strict=False (from_dict,
        # sdk_core), which coerces numbers and strings. Unknown fields are kept (model_extra).
        strict=True,
        extra="allow",
        coerce_numbers_to_str=True,"""

# openapi-generator's conversion methods, from `def to_str` to the end of the class: replaced by
# CytomineModel's (one copy in model_base.py, driven by the two sets each model declares).
METHODS = re.compile(r"\n    def to_str\(self\) -> str:\n.*\Z", re.DOTALL)
READ_ONLY = re.compile(r"excluded_fields: Set\[str\] = set\(\[\n((?:            \"\w+\",\n)*)        \]\)")
NULLABLE = re.compile(r'if self\.(\w+) is None and "\1" in self\.model_fields_set:')
PROPERTIES = re.compile(r"^    __properties: ClassVar\[List\[str\]\] = \[.*\]\n", re.MULTILINE)
STRICT_TYPES = {"StrictStr": "str", "StrictInt": "int", "StrictFloat": "float", "StrictBool": "bool"}
MODEL_CLASS = re.compile(r"^(class \w+)\(BaseModel\):$", re.MULTILINE)
# `    name: Type = Field(..., alias="serverName")`, the alias always last (openapi-generator).
ALIASED_FIELD = re.compile(r'^(    \w+): (.+?) = Field\((.*?), alias="([^"\\]+)"\)$')


def _python_init_names(line: str) -> str:
    """Move a field's server name (`alias`) from its `= Field(...)` into `Annotated[..., Field(alias=...)]`.

    Type checkers read a pydantic model's constructor from the `= Field(...)` of each field
    (dataclass_transform): with `alias` there, they take the server name as the argument name
    (`Project(isRestricted=True)`). Annotated metadata is pydantic's alone, so they now take the
    Python name (`Project(is_restricted=True)`); at run time the field is the same (same alias:
    JSON in and out keeps the server names; `validate_by_name` accepts both names).
    """
    m = ALIASED_FIELD.match(line)
    if m is None:
        return line
    name, type_, args, alias = m.groups()
    default = "None" if args == "default=None" else f"Field({args})"
    return f'{name}: Annotated[{type_}, Field(alias="{alias}")] = {default}'


def name_of(text: str) -> str:
    """The name of the model class a generated module defines."""
    m = MODEL_CLASS.search(text) or re.search(r"^class (\w+)\(", text, re.MULTILINE)
    if m is None:
        raise SystemExit("post-processing: a model module without a class")
    return m.group(1).removeprefix("class ")


def _lenient_model(text: str, name: str, package: str) -> str:
    if "(str, Enum):" in text:
        return text.rstrip("\n") + "\n" + ENUM_MISSING
    if "additional_properties" in text:
        raise SystemExit(f"post-processing: {name} declares additionalProperties; models keep extras natively")
    lines = []
    for line in text.split("\n"):
        if line.startswith("from pydantic import "):
            names = [n.strip() for n in line[len("from pydantic import "):].split(",")]
            kept = [n for n in names if n not in STRICT_TYPES and n != "BaseModel"]
            lines.append("from pydantic import " + ", ".join(kept))
            line = f"from {package}.model_base import CytomineModel"
        elif line == "import re  # noqa: F401" and not re.search(r"\bre\.", text):
            continue
        else:
            line = re.sub(r"\bStrict(Str|Int|Float|Bool)\b", lambda m: STRICT_TYPES[m.group(0)], line)
        lines.append(line)
    # The JSON field `class` is `var_class` for the generator; `java_class` says what it holds.
    # (The generator's own name mapping would add a Python validator to every model instance.)
    lines = [re.sub(r"\bvar_class\b", "java_class", line) for line in lines]
    lines = [_python_init_names(line) for line in lines]
    if any(', alias="' in line for line in lines):
        raise SystemExit(f"post-processing: {name}: a field alias in an unexpected form")
    if any("Annotated[" in line for line in lines) and "from typing_extensions import Annotated" not in lines:
        lines.insert(lines.index("from typing_extensions import Self"), "from typing_extensions import Annotated")
    text = "\n".join(lines)
    if not re.search(rf"^    \w+: .*\b{re.escape(name_of(text))}\b", text, re.MULTILINE):
        # Annotations as objects, not strings: pydantic then has nothing to evaluate when it
        # builds the class (a fifth of a model's first-use cost). Kept where a model refers to
        # itself (a term's children), which needs the deferred name.
        text = text.replace("from __future__ import annotations\n", "", 1)
    text, n = MODEL_CLASS.subn(r"\1(CytomineModel):", text)
    if n != 1 or "BaseModel" in text:
        raise SystemExit(f"post-processing: {name}: not one model class deriving from BaseModel alone")
    if text.count("model_config = ConfigDict(") != 1:
        raise SystemExit(f"post-processing: {name} has no single model_config")
    text = text.replace("model_config = ConfigDict(", MODEL_CONFIG)
    return _shared_methods(text, name)


def _shared_methods(text: str, name: str) -> str:
    """Replace the generator's per-model to_dict/from_dict/to_json/from_json/to_str by the sets
    CytomineModel's versions read: the read-only fields and the nullable ones (Python names)."""
    methods = METHODS.search(text)
    if methods is None or "def to_dict(self)" not in methods.group(0) or "def from_dict(cls" not in methods.group(0):
        raise SystemExit(f"post-processing: {name}: the conversion methods are not where expected")
    code = methods.group(0)
    read_only = READ_ONLY.search(code)
    nullable = NULLABLE.findall(code)
    # The sets must hold every field the generator's code names, or to_dict() would change silently.
    if (read_only is None) != ("excluded_fields" not in code) or len(nullable) != code.count("(nullable) is None"):
        raise SystemExit(f"post-processing: {name}: to_dict() is not in the form expected")
    # `id` is server-computed (readOnly) but updates find their object by the id in the body:
    # keep it in what to_dict() sends.
    excluded = [f for f in re.findall(r'"(\w+)"', read_only.group(1)) if f != "id"] if read_only else []
    sets = ""
    if excluded:
        sets += f"    _read_only: ClassVar[frozenset[str]] = frozenset({_names(excluded)})\n"
    if nullable:
        sets += f"    _nullable: ClassVar[frozenset[str]] = frozenset({_names(nullable)})\n"
    text = text[: methods.start()].rstrip("\n") + "\n" + (sets and "\n" + sets)
    text = PROPERTIES.sub("", text)
    # Imports only the removed methods used.
    for line in ("import pprint\n", "import json\n", "from pydantic_core import to_jsonable_python\n",
                 "from typing import Optional, Set\n", "from typing_extensions import Self\n"):
        text = text.replace(line, "", 1)
    return re.sub(r'(""")\n\n\n+', r"\1\n\n", text, count=1)  # the blank lines the imports leave


def _names(names: list[str]) -> str:
    return "{" + ", ".join(f'"{n}"' for n in names) + "}"


def make_models_lenient(package: Path, package_name: str) -> None:
    """Lenient with servers (coercion, unknown fields and enum values kept), strict with users."""
    for file in sorted((package / "models").glob("*.py")):
        if file.name != "__init__.py":
            text = _lenient_model(file.read_text(encoding="utf-8"), file.name, package_name)
            file.write_text(text, encoding="utf-8")


def postprocess(raw_package: Path, dest_package: Path, spec_path: Path) -> None:
    """Turn the generator's package at raw_package into the shipped one at dest_package."""
    dest_package.parent.mkdir(parents=True, exist_ok=True)
    staged = dest_package.with_name(f".{dest_package.name}.new-{os.getpid()}")
    retired = dest_package.with_name(f".{dest_package.name}.old-{os.getpid()}")
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(raw_package / "models", staged / "models", ignore=shutil.ignore_patterns("__pycache__"))
    make_models_lenient(staged, dest_package.name)
    (staged / "model_base.py").write_bytes(MODEL_BASE.read_bytes())
    render_package(Spec(spec_path), staged)
    # Swap directories rather than rewrite in place, so a concurrent import never sees half a package.
    if dest_package.exists():
        dest_package.rename(retired)
    staged.rename(dest_package)
    shutil.rmtree(retired, ignore_errors=True)
