"""Render the API reference of the documentation site (`make docs`) from the generated package.

    python generator/render_docs.py                  # writes docs/reference/ (git-ignored)
    python generator/render_docs.py --out DIR        # elsewhere (tests/test_docs.py builds in a temp dir)

The reference shows what users get, read from the package as `help()` would:
- the operation table (`cytomine_sdk_gen.operations.OPERATIONS`): HTTP method and path, server
  (core or image server), generations, paging, each parameter's location and wire name, the body,
  the answer per status, what a list or a write returns;
- the generated methods (`cytomine_sdk_gen.api.<tag>_api`): their signature (`inspect.signature`)
  and docstring (summary, description, the text of each argument and of the answer);
- the models (`cytomine_sdk_gen.models`): pydantic `model_fields` (Python name, JSON name, type,
  description), read-only fields (those `to_dict()` leaves out), enum values.

Pages: `index.md` (the services), `services/<tag>.md` (every operation of a service),
`models.md` and `models/<module>.md` (one per model), `rest-index.md` (every REST path -> method).
The output is deterministic (same package, same bytes) and replaces the output directory whole.
Pages are not committed: sdk/ is generated and checked already (`make check-generated`), and
rendering it again takes a second.
"""

from __future__ import annotations

import argparse
import enum
import importlib
import inspect
import re
import shutil
import sys
import typing
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "reference"
# The package as the source tree has it (not an installed copy).
for _path in (ROOT / "sdk", ROOT / "sdk_core"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from cytomine_sdk_gen import models as gen_models  # noqa: E402
from cytomine_sdk_gen.operations import OPERATIONS  # noqa: E402
from cytomine_sdk_gen.runtime import Operation  # noqa: E402

HTTP_ORDER = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
PER_CALL = ("timeout", "extra_query", "extra_headers", "extra_body")
GENERATIONS = {"2026": "2026 monorepo core", "2025": "2025 Spring core", "legacy": "legacy Grails core"}
PAGING = {
    "max-offset": "`max`/`offset` (iterating the result fetches every page)",
    "page-size": "`page`/`size` (iterating the result fetches every page)",
    "mixed": "`page`/`size` on 2026, `max`/`offset` before; both are sent (iterating fetches every page)",
    "none": "none: the whole list in one answer",
}


# -- the data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamDoc:
    name: str  # the Python argument name
    annotation: str  # as the method declares it (`int | None`), or the table's kind
    required: bool
    location: str  # path, query, header, form, file, body
    wire: str  # the name on the wire ("" for a JSON body)
    description: str
    notes: str  # enum values, bounds, list style


@dataclass(frozen=True)
class OperationDoc:
    op: Operation
    signature: str  # `verb(arguments) -> answer`, as inspect.signature gives it
    summary: str
    description: str
    params: tuple[ParamDoc, ...]
    returns_text: str  # the docstring's Returns section
    returns: str  # the method's return annotation

    @property
    def http(self) -> str:
        return f"{self.op.method} {self.op.server}{self.op.path}"


@dataclass(frozen=True)
class ServiceDoc:
    tag: str
    attribute: str  # api_client.<attribute>
    class_name: str
    module: str
    description: str
    operations: tuple[OperationDoc, ...]


@dataclass(frozen=True)
class FieldDoc:
    name: str
    json_name: str
    annotation: Any
    description: str
    read_only: bool


@dataclass(frozen=True)
class ModelDoc:
    name: str
    module: str  # the module's name in cytomine_sdk_gen.models: the page's name
    description: str
    fields: tuple[FieldDoc, ...] = ()
    values: tuple[str, ...] = ()  # enum values
    is_enum: bool = False


@dataclass(frozen=True)
class Reference:
    services: tuple[ServiceDoc, ...]
    models: dict[str, ModelDoc]
    used_by: dict[str, tuple[str, ...]] = field(default_factory=dict)  # model -> operation ids

    @property
    def operations(self) -> list[OperationDoc]:
        return [o for s in self.services for o in s.operations]

    def rest_index(self) -> list[OperationDoc]:
        """Every operation, by path (server prefix included), then HTTP method."""
        return sorted(
            self.operations,
            key=lambda o: (o.op.server + o.op.path, HTTP_ORDER.index(o.op.method), o.op.verb),
        )


# -- reading the package ----------------------------------------------------------------------------


def _camel(tag: str) -> str:
    return "".join(part.capitalize() for part in tag.split("_"))


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", inspect.cleandoc(text)) if p.strip()]


def parse_docstring(doc: str) -> tuple[str, str, dict[str, str], str]:
    """(summary, description, {argument: text}, returns) of a generated method's docstring."""
    text = inspect.cleandoc(doc or "")
    head, _, rest = text.partition("\nArgs:\n")
    if not rest:
        head, _, rest = text.partition("\nReturns:\n")
        rest = "Returns:\n" + rest if rest else ""
    paragraphs = _paragraphs(head)
    summary = paragraphs[0] if paragraphs else ""
    # The second paragraph is the ``METHOD path`` · servers line, which the table gives.
    body = [p for p in paragraphs[1:] if not p.startswith("``")]
    args: dict[str, str] = {}
    returns = ""
    section = "args"
    current: str | None = None
    for line in rest.splitlines():
        stripped = line.strip()
        if stripped in ("Returns:", "Raises:"):
            section, current = stripped[:-1].lower(), None
            continue
        if not stripped:
            continue
        if section == "args":
            match = re.match(r"^ {4}(\w[\w, ]*): (.*)$", line)
            if match:
                current = match.group(1)
                args[current] = match.group(2).strip()
            elif current is not None:
                args[current] += " " + stripped
        elif section == "returns":
            returns = f"{returns} {stripped}".strip()
    return summary, "\n\n".join(body), args, returns


def _annotation(value: Any) -> str:
    if value is inspect.Parameter.empty:
        return ""
    return value if isinstance(value, str) else inspect.formatannotation(value)


def format_signature(verb: str, sig: inspect.Signature) -> str:
    """`verb(...) -> answer` with the method's own annotations, one argument a line when long."""
    parts: list[str] = []
    keyword_only = False
    for p in sig.parameters.values():
        if p.name == "self":
            continue
        if p.kind is inspect.Parameter.KEYWORD_ONLY and not keyword_only:
            parts.append("*")
            keyword_only = True
        text = ("**" if p.kind is inspect.Parameter.VAR_KEYWORD else "") + p.name
        if p.annotation is not inspect.Parameter.empty:
            text += f": {_annotation(p.annotation)}"
        if p.default is not inspect.Parameter.empty:
            text += f" = {p.default!r}"
        parts.append(text)
    answer = _annotation(sig.return_annotation)
    one_line = f"{verb}({', '.join(parts)}) -> {answer}"
    if len(one_line) <= 100:
        return one_line
    return f"{verb}(\n" + "".join(f"    {p},\n" for p in parts) + f") -> {answer}"


def _notes(param: Any, description: str) -> str:
    notes = []
    if param.enum and "One of:" not in description:
        notes.append("one of " + ", ".join(f"`{v}`" for v in param.enum))
    if param.minimum is not None or param.maximum is not None:
        if param.minimum is not None:
            notes.append(f"minimum {param.minimum:g}")
        if param.maximum is not None:
            notes.append(f"maximum {param.maximum:g}")
    if param.collection == "csv":
        notes.append("sent comma-separated")
    elif param.collection == "multi":
        notes.append("sent as a repeated parameter")
    return "; ".join(notes)


def read_operation(op: Operation, method: Any, flag_types: Mapping[str, str]) -> OperationDoc:
    sig = inspect.signature(method)
    summary, description, args, returns_text = parse_docstring(method.__doc__ or "")
    declared = {name: _annotation(p.annotation) for name, p in sig.parameters.items()}
    params = []
    for p in op.params:
        annotation = declared.get(p.name) or flag_types.get(p.name) or p.kind
        said = args.get(p.name, "")
        params.append(ParamDoc(p.name, annotation, p.required, p.location, p.wire, said, _notes(p, said)))
    if op.body is not None:
        b = op.body
        annotation = declared.get(b.name, b.kind)
        params.append(ParamDoc(b.name, annotation, b.required, "body", "", args.get(b.name, ""), b.content_type))
    return OperationDoc(
        op=op,
        signature=format_signature(op.verb, sig),
        summary=summary,
        description=description,
        params=tuple(params),
        returns_text=returns_text,
        returns=_annotation(sig.return_annotation),
    )


def _flag_types(module: Any, class_name: str, verb: str) -> dict[str, str]:
    """Annotations of the True/False flags a long signature groups into `**flags` (a TypedDict)."""
    flags = getattr(module, f"{class_name}{_camel(verb)}Flags", None)
    annotations = getattr(flags, "__annotations__", {})
    return {name: _annotation(value) for name, value in annotations.items()}


def read_services(operations: Mapping[str, Operation]) -> tuple[ServiceDoc, ...]:
    by_tag: dict[str, list[Operation]] = defaultdict(list)
    for op in operations.values():
        by_tag[op.id.partition(".")[0]].append(op)
    services = []
    for tag in sorted(by_tag):
        module_name = f"cytomine_sdk_gen.api.{tag}_api"
        module = importlib.import_module(module_name)
        class_name = f"{_camel(tag)}Api"
        cls = getattr(module, class_name)
        # The class's order (the spec's), not the table's alphabetical one.
        order = {name: i for i, name in enumerate(vars(cls))}
        ops = sorted(by_tag[tag], key=lambda o: (order.get(o.verb, len(order)), o.verb))
        docs = tuple(read_operation(op, getattr(cls, op.verb), _flag_types(module, class_name, op.verb)) for op in ops)
        paragraphs = _paragraphs(cls.__doc__ or "")
        description = paragraphs[1] if len(paragraphs) > 1 else ""
        services.append(ServiceDoc(tag, ops[0].service, class_name, module_name, description, docs))
    return tuple(services)


def _read_only(cls: type) -> set[str]:
    """The fields `to_dict()` leaves out: OpenAPI readOnly ones (from the generated method)."""
    try:
        source = inspect.getsource(cls.to_dict)  # type: ignore[attr-defined]
    except (OSError, TypeError, AttributeError):
        return set()
    match = re.search(r"excluded_fields: Set\[str\] = set\(\[(.*?)\]\)", source, re.DOTALL)
    return set(re.findall(r'"(\w+)"', match.group(1))) if match else set()


def read_models() -> dict[str, ModelDoc]:
    found: dict[str, ModelDoc] = {}
    for name in sorted(gen_models.__all__):
        cls = getattr(gen_models, name)
        module = cls.__module__.rpartition(".")[2]
        description = " ".join(_paragraphs(cls.__doc__ or ""))
        if isinstance(cls, type) and issubclass(cls, enum.Enum):
            values = tuple(str(member.value) for member in cls)
            found[name] = ModelDoc(name, module, description, values=values, is_enum=True)
            continue
        read_only = _read_only(cls)
        fields = tuple(
            FieldDoc(
                python,
                info.alias or python,
                info.annotation,
                " ".join((info.description or "").split()),
                python in read_only,
            )
            for python, info in cls.model_fields.items()
        )
        found[name] = ModelDoc(name, module, description, fields=fields)
    return found


def _kind_names(kind: str | None) -> list[str]:
    return re.findall(r"\b[A-Z]\w*", kind or "")


def build_reference() -> Reference:
    services = read_services(OPERATIONS)
    models = read_models()
    used: dict[str, set[str]] = defaultdict(set)
    for op in OPERATIONS.values():
        kinds = [op.returns, op.item, op.result, op.body.kind if op.body else None]
        for kind in kinds + [k for s, k in op.responses.items() if s.startswith("2")]:
            for name in _kind_names(kind):
                if name in models:
                    used[name].add(op.id)
    return Reference(services, models, {k: tuple(sorted(v)) for k, v in used.items()})


# -- Markdown ---------------------------------------------------------------------------------------


def text(value: str) -> str:
    """Plain text for Markdown: code spans kept, HTML and emphasis characters escaped outside them."""
    out = []
    for i, part in enumerate(re.split(r"(`[^`]*`)", value)):
        if i % 2:
            out.append(part)
        else:
            part = part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            out.append(re.sub(r"([\\*_\[\]])", r"\\\1", part))
    return "".join(out)


def cell(value: str) -> str:
    """A table cell: one line, pipes escaped outside code spans (a table leaves those alone)."""
    parts = re.split(r"(`[^`]*`)", " ".join(value.split()))
    return "".join(part if i % 2 else part.replace("|", "\\|") for i, part in enumerate(parts))


def code(value: str) -> str:
    return f"`{value}`" if value else ""


class Linker:
    """Model names in a type, linked to their pages (relative to `base`, a page's folder)."""

    def __init__(self, models: Mapping[str, ModelDoc], base: str) -> None:
        self.models = models
        self.base = base

    def href(self, name: str) -> str:
        return f"{self.base}{self.models[name].module}.md"

    def kind(self, value: str) -> str:
        """`list[Project] | None` as code, with each model name a link."""
        pieces = []
        last = 0
        for match in re.finditer(r"\b[A-Z]\w*", value):
            if match.group() not in self.models:
                continue
            if match.start() > last:
                pieces.append(code(value[last : match.start()]))
            pieces.append(f"[`{match.group()}`]({self.href(match.group())})")
            last = match.end()
        if last < len(value):
            pieces.append(code(value[last:]))
        return "".join(pieces)

    def annotation(self, value: Any) -> str:
        return self.kind(type_text(value))


def type_text(value: Any) -> str:
    """A model field's type as Python spells it (`list[int]`), `| None` left out: every field is optional."""
    origin = typing.get_origin(value)
    args = typing.get_args(value)
    if origin is typing.Annotated:
        inner = type_text(args[0])
        bounds = []
        for meta in args[1:]:
            for item in getattr(meta, "metadata", [meta]):
                if getattr(item, "ge", None) is not None:
                    bounds.append(f">= {item.ge}")
                if getattr(item, "le", None) is not None:
                    bounds.append(f"<= {item.le}")
        return f"{inner} ({', '.join(bounds)})" if bounds else inner
    if origin is typing.Union or (origin is not None and getattr(origin, "__name__", "") == "UnionType"):
        kept = [type_text(a) for a in args if a is not type(None)]
        return " | ".join(kept)
    if origin in (list, typing.List):  # noqa: UP006
        return f"list[{', '.join(type_text(a) for a in args)}]"
    if origin in (dict, typing.Dict):  # noqa: UP006
        return f"dict[{', '.join(type_text(a) for a in args)}]"
    if value is typing.Any:
        return "Any"
    if value is datetime:
        return "datetime"
    if isinstance(value, type):
        return value.__name__
    return str(value).replace("typing.", "")


def _servers(op: Operation) -> str:
    if op.server.startswith("{pims}"):
        return "the image server (PIMS), whatever the core's generation"
    return ", ".join(op.servers) if op.servers else "none"


def render_operation(o: OperationDoc, link: Linker) -> list[str]:
    op = o.op
    lines = [f"## `{op.verb}` {{#{op.verb}}}", ""]
    if o.summary:
        lines += [text(o.summary), ""]
    lines += ["```python", f"api_client.{op.service}.{o.signature}", "```", ""]
    facts = [f"**HTTP** `{o.http}`", f"**Servers** {_servers(op)}"]
    if op.paging:
        facts.append(f"**Paging** {PAGING.get(op.paging, op.paging)}")
    lines += ["- " + fact for fact in facts] + [""]
    if o.description:
        lines += [text(o.description), ""]
    own = [p for p in o.params]
    if own:
        lines += [
            "| argument | type | required | sent as | description |",
            "|---|---|---|---|---|",
        ]
        for p in own:
            where = "JSON body" if p.location == "body" and "json" in p.notes else p.location
            if p.location == "body" and "json" not in p.notes:
                where = f"body ({p.notes})"
            elif p.wire:
                where = f"{p.location} `{p.wire}`"
            description = text(p.description)
            if p.notes and p.location != "body":
                description = f"{description} ({text(p.notes)})" if description else text(p.notes)
            lines.append(
                f"| `{p.name}` | {cell(link.kind(p.annotation))} | {'yes' if p.required else 'no'} | {cell(where)} "
                f"| {cell(description)} |"
            )
        lines.append("")
    lines.append(
        "Per-call options, as for every operation: `timeout`, `extra_query`, `extra_headers`"
        + (", `extra_body`" if op.body is not None and "json" in op.body.content_type else "")
        + " ([how](../index.md#per-call-options))."
    )
    lines.append("")
    returns = f"**Returns** {link.kind(o.returns)}"
    if o.returns_text:
        _, _, said = o.returns_text.partition(": ")
        if said:
            returns += f": {text(said)}"
    lines += [returns, ""]
    if op.item:
        lines += [f"Items: {link.kind(op.item)}.", ""]
    if op.result:
        lines += [
            f"The server answers a command envelope ({link.kind(op.returns or '')}); the method returns "
            f"the {link.kind(op.result)} it holds (`with_raw_response` gives the envelope).",
            "",
        ]
    answers = []
    for status, kind in op.responses.items():
        shown = link.kind(kind) if kind else "no body"
        answers.append(f"`{status}` {shown}")
    lines += [f"**Answers** {'; '.join(answers)}.", ""]
    if op.empty_body:
        lines += ["A server may answer this operation with an empty body: the method then returns `None`.", ""]
    lines += [
        "**Errors** `APIStatusError` subclass of the error status, with the server's message; "
        "`APIConnectionError` when no answer; `InvalidArgumentError` for a wrong argument, before sending "
        "([errors](../../guide/errors.md)).",
        "",
    ]
    return lines


def render_service(s: ServiceDoc, reference: Reference) -> str:
    link = Linker(reference.models, "../models/")
    lines = [
        f"# {s.tag.replace('_', ' ').capitalize()}: `api_client.{s.attribute}`",
        "",
        text(s.description),
        "",
        f"`{s.class_name}` ({s.module}): {len(s.operations)} operation{'s' if len(s.operations) != 1 else ''}. "
        f"`api_client.{s.attribute}.with_raw_response.<method>(...)` answers the status, headers and bytes, "
        f"`with_streaming_response` the unread answer.",
        "",
        "| method | HTTP | summary |",
        "|---|---|---|",
    ]
    for o in s.operations:
        lines.append(f"| [`{o.op.verb}`](#{o.op.verb}) | `{cell(o.http)}` | {cell(text(o.summary))} |")
    lines.append("")
    for o in s.operations:
        lines += render_operation(o, link)
    return "\n".join(lines).rstrip() + "\n"


def render_model(m: ModelDoc, reference: Reference) -> str:
    link = Linker(reference.models, "")
    lines = [f"# `{m.name}`", ""]
    if m.description:
        lines += [text(m.description), ""]
    lines += [f"`from cytomine_sdk.models import {m.name}`", ""]
    if m.is_enum:
        lines += [
            "An enum of strings. A value a newer server sends that is not listed here is kept as it comes.",
            "",
            "| value |",
            "|---|",
            *[f"| `{v}` |" for v in m.values],
            "",
        ]
    else:
        lines += [
            "Every field is optional (`None` when the server leaves it out). Build a model with the Python "
            "names; the JSON keeps the server's names (`to_dict()`). Read-only fields are computed by the "
            "server and left out of `to_dict()`. Fields the spec does not declare are kept in `model_extra`.",
            "",
        ]
        if m.fields:
            lines += ["| field | JSON name | type | description |", "|---|---|---|---|"]
            for f in m.fields:
                description = text(f.description)
                if f.read_only:
                    description = f"*Read-only.* {description}".strip()
                json_name = f"`{f.json_name}`" if f.json_name != f.name else "same"
                lines.append(
                    f"| `{f.name}` | {json_name} | {cell(link.annotation(f.annotation))} | {cell(description)} |"
                )
            lines.append("")
        else:
            lines += ["No declared field: a free-form object (every key is in `model_extra`).", ""]
    users = reference.used_by.get(m.name, ())
    if users:
        lines += ["## Used by", ""]
        for op_id in users:
            op = OPERATIONS[op_id]
            tag = op_id.partition(".")[0]
            lines.append(
                f"- [`{op.service}.{op.verb}`](../services/{tag}.md#{op.verb}): `{op.method} {op.server}{op.path}`"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_index(reference: Reference) -> str:
    services = reference.services
    count = sum(len(s.operations) for s in services)
    lines = [
        "# API reference",
        "",
        f"Every operation of the Cytomine API as this SDK has it: {count} operations in {len(services)} "
        f"services, {len(reference.models)} models. Generated by `make docs` (generator/render_docs.py) from the "
        "package itself: the operation table (`cytomine_sdk_gen.operations.OPERATIONS`), the signature and "
        "docstring of each generated method (what `help()` shows) and the models' fields.",
        "",
        "- [REST path index](rest-index.md): from a path of the HTTP API (`/api/project/{id}/user.json`) "
        "to its method.",
        "- [Models](models.md): every model and enum, with its fields.",
        "",
        "## How to read an operation",
        "",
        "Each service is an attribute of the client (`api_client.project_api`); each operation a method "
        "(`api_client.project_api.retrieve(42)`). Required arguments come first and may be positional; the "
        "others are keyword-only. The HTTP line is the request sent (path parameters in braces; "
        "`{pims}` is the image server, `Configuration.pims_url`). *Servers* are the server generations that "
        "serve the operation: `2026` (the monorepo core), `2025` (the Spring core), `legacy` (the Grails core). "
        "*Sent as* gives where each argument goes and its name on the wire.",
        "",
        "List operations return the whole list, fetched page by page as you iterate it; writes answering "
        "a command envelope return the object written ([lists and writes](../guide/lists-and-writes.md)).",
        "",
        "### Per-call options",
        "",
        "Every method also takes these keyword arguments:",
        "",
        "| option | |",
        "|---|---|",
        "| `timeout` | seconds, for connect and for read each, or a `(connect, read)` pair |",
        "| `extra_query` | query parameters the spec does not declare (`{\"status[equals]\": \"online\"}`), "
        "encoded and signed like declared ones |",
        "| `extra_headers` | request headers |",
        "| `extra_body` | fields merged into a JSON object body (operations sending one) |",
        "",
        "## Services",
        "",
        "| service | operations | |",
        "|---|---|---|",
    ]
    for s in services:
        lines.append(f"| [`{s.attribute}`](services/{s.tag}.md) | {len(s.operations)} | {cell(text(s.description))} |")
    return "\n".join(lines).rstrip() + "\n"


def render_models_index(reference: Reference) -> str:
    lines = [
        "# Models",
        "",
        f"{len(reference.models)} models, importable from `cytomine_sdk.models`. Enums keep values they do not know.",
        "",
        "| model | kind | description |",
        "|---|---|---|",
    ]
    for m in reference.models.values():
        first = re.split(r"(?<=\.)\s", m.description, maxsplit=1)[0] if m.description else ""
        kind = "enum" if m.is_enum else f"{len(m.fields)} fields"
        lines.append(f"| [`{m.name}`](models/{m.module}.md) | {kind} | {cell(text(first))} |")
    return "\n".join(lines).rstrip() + "\n"


def render_rest_index(reference: Reference) -> str:
    rows = reference.rest_index()
    lines = [
        "# REST path index",
        "",
        f"Every path of the HTTP API ({len({o.op.server + o.op.path for o in rows})} paths, {len(rows)} "
        "operations) and the method that sends it. Search the site for a path as you would write it "
        "(`/api/project/{id}/user.json`), or find it below. In code: `[op.id for op in "
        "cytomine_sdk_gen.operations.OPERATIONS.values() if op.path == \"/api/ontology/{id}/term.json\"]`.",
        "",
        "| path | HTTP | method | servers |",
        "|---|---|---|---|",
    ]
    for o in rows:
        op = o.op
        target = f"services/{op.id.partition('.')[0]}.md#{op.verb}"
        method = f"[`{op.service}.{op.verb}`]({target})"
        lines.append(f"| `{cell(op.server + op.path)}` | {op.method} | {method} | {cell(_servers(op))} |")
    return "\n".join(lines).rstrip() + "\n"


def render(reference: Reference) -> dict[str, str]:
    """Relative path -> Markdown of every reference page."""
    pages = {
        "index.md": render_index(reference),
        "models.md": render_models_index(reference),
        "rest-index.md": render_rest_index(reference),
    }
    for s in reference.services:
        pages[f"services/{s.tag}.md"] = render_service(s, reference)
    for m in reference.models.values():
        pages[f"models/{m.module}.md"] = render_model(m, reference)
    return pages


def write(pages: Mapping[str, str], out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    for name, content in sorted(pages.items()):
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT, help=f"folder to write (replaced; default {OUT})")
    args = ap.parse_args(list(argv) if argv is not None else None)
    reference = build_reference()
    pages = render(reference)
    write(pages, args.out)
    print(
        f"render_docs: {len(reference.operations)} operations in {len(reference.services)} services, "
        f"{len(reference.models)} models, {len(pages)} pages in {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
