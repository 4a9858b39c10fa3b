#!/usr/bin/env python3
"""Extract the legacy Grails core's operations (query/path parameters, body, response) from its sources.

Reads `grails-app/conf/*UrlMappings.groovy` of one or more Grails source trees, maps every
(method, path) to its controller action and reads the action body (and the same-class methods,
base-controller helpers, services and forwards it hands the request parameters to) for:
request parameters (`params.x`, `params['x']`, `params.long('x'[, default])`, `params.getLong`...),
JSON body fields (`request.JSON.x`, `def json = request.JSON; json.x`), multipart parts
(`request.getFile('x')`) and the response shape (`responseSuccess(list|domain)`, `responseResult`,
`responseByteArray`/`responseFile`, `render ... as JSON`). Writes the format of
tools/extract_spring.py (columns: spec/inventory/sources/README.md).

    git --git-dir=<mirror> archive <rev> grails-app | tar -x -C /tmp/grails-a
    .venv/bin/python tools/extract_grails.py /tmp/grails-a [/tmp/grails-b=label ...] \\
        --source "github:owner/name @ <rev>" [--source ...] -o spec/inventory/sources/grails-legacy.tsv

The first tree is the primary one; (method, path) pairs only found in a further tree are added,
their source locations prefixed with `label:`. Standard library only; lexical (no Groovy parser).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sources_format import Operation, QueryParam, write_tsv  # tools/: run as scripts

HTTP_METHODS = ("GET", "POST", "PUT", "DELETE")
# Grails' GrailsParameterMap typed accessors -> Java type
ACCESSORS = {
    "long": "Long",
    "getLong": "Long",
    "int": "Integer",
    "getInt": "Integer",
    "integer": "Integer",
    "boolean": "Boolean",
    "getBoolean": "Boolean",
    "double": "Double",
    "getDouble": "Double",
    "float": "Float",
    "getFloat": "Float",
    "short": "Short",
    "byte": "Byte",
    "char": "Character",
    "list": "List",
    "getList": "List",
    "get": "String",
    "date": "Date",
    "getDate": "Date",
    "containsKey": "String",
    "remove": "String",
}
NOT_PARAMS = {
    "put",
    "each",
    "keySet",
    "entrySet",
    "findAll",
    "find",
    "collect",
    "clone",
    "size",
    "toString",
    "putAll",
    "values",
    "iterator",
    "any",
    "class",
    "sort",  # params.sort is read as a parameter too; kept below when not a call
}
# names set by Grails itself, not request parameters (`format` too, but only on a mapping with a
# `.$format`/extension suffix: without one, `?format=xls` is an ordinary parameter; see extract())
GRAILS_PARAMS = {"controller", "action"}
# RestController (base class) helpers that read request parameters themselves: name -> [(param, type, default)]
HELPER_PARAMS: dict[str, list[tuple[str, str, str | None]]] = {
    "responseByteArray": [("alphaMask", "Boolean", None), ("type", "String", None)],
}
# controllers the `/$controller/$action?.$format?` convention mapping is expanded for (the
# inventory's rule: the other controllers' actions reachable that way are admin/internal pages)
CONVENTION_CONTROLLERS = {"server", "command"}
PAGING = [("offset", "Integer", "0"), ("max", "Integer", "0")]
ERROR_HELPERS = {"responseNotFound", "responseError", "responseErrorUnauthorized"}
BINARY_HELPERS = {"responseByteArray", "responseFile", "responseBufferedImage", "responseImage"}
# a write to the servlet response's body, after the variable holding it: `response.outputStream << bytes`
OUTPUT_STREAM = r"\s*\.\s*(?:outputStream\b|getOutputStream\s*\()"
MAX_DEPTH = 6  # calls followed from the action when the request parameters or body are passed on
KEYWORDS = {"if", "for", "while", "switch", "catch", "return", "new", "synchronized", "assert", "throw"}
COMMAND_HELPERS = {"responseResult", "add", "update", "delete", "addOne", "addMultiple"}
# RestController helpers answering through `response(data)` (responseSuccess -> responseList -> responseSuccess ->
# response(data); responseError -> response(data, code) -> response(data)): a controller's override of
# response(data) reads the request behind each of them (RestImageInstanceController.response: blind mode)
ANSWER_HELPERS = {"responseSuccess", "responseList", "responseError"}
# a test of the running action (`["a", "b"].contains(params.action.GET)`, `params.action.GET != "a"`)
ACTION_TEST = re.compile(
    r"(!\s*(?:\(\s*)?)?\[([^\]\[]*)\]\s*\.\s*contains\s*\(\s*params\s*\??\.\s*action(?:\s*\??\.\s*\w+)?\s*\)"
    r"|params\s*\??\.\s*action(?:\s*\??\.\s*\w+)?\s*(==|!=)\s*(['\"])(\w+)\4"
)


# --------------------------------------------------------------------------------------------
# Lexing: `code` = text with comments blanked; `skel` = code with string contents blanked too
# (same length, newlines kept), so braces/parentheses can be matched on `skel` and string
# literals read from `code` at the same offsets.


@dataclass
class Source:
    rel: str
    code: str
    skel: str
    _lines: list[int] = field(default_factory=list)

    def line(self, offset: int) -> int:
        if not self._lines:
            self._lines = [i for i, c in enumerate(self.code) if c == "\n"]
        lo, hi = 0, len(self._lines)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._lines[mid] < offset:
                lo = mid + 1
            else:
                hi = mid
        return lo + 1

    def at(self, offset: int) -> str:
        return f"{self.rel}:{self.line(offset)}"


def blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def lex(text: str) -> tuple[str, str]:
    code: list[str] = []
    skel: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            code.append(blank(text[i:j]))
            skel.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            code.append(blank(text[i:j]))
            skel.append(blank(text[i:j]))
            i = j
        elif c in "\"'":
            quote = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                j += 2 if text[j] == "\\" else 1
            j = min(n, j + len(quote))
            code.append(text[i:j])
            inner = text[i + len(quote) : j - len(quote)]
            skel.append(
                quote + blank(inner) + text[j - len(quote) : j] if j - i >= 2 * len(quote) else blank(text[i:j])
            )
            i = j
        else:
            code.append(c)
            skel.append(c)
            i += 1
    return "".join(code), "".join(skel)


def load(path: Path, root: Path) -> Source:
    code, skel = lex(path.read_text(encoding="utf-8", errors="replace"))
    return Source(str(path.relative_to(root)), code, skel)


def match_close(skel: str, start: int) -> int:
    """Offset of the bracket closing the one at `start`."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = [pairs[skel[start]]]
    for i in range(start + 1, len(skel)):
        c = skel[i]
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if stack and stack[-1] == c:
                stack.pop()
            if not stack:
                return i
    return len(skel) - 1


def split_top(skel: str, start: int, end: int) -> list[tuple[int, int]]:
    """Top-level comma-separated spans of skel[start:end]."""
    out: list[tuple[int, int]] = []
    depth, begin = 0, start
    for i in range(start, end):
        c = skel[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            out.append((begin, i))
            begin = i + 1
    if skel[begin:end].strip():
        out.append((begin, end))
    return out


def literal(code: str) -> str | None:
    m = re.fullmatch(r"\s*(['\"])(.*?)\1\s*", code, re.S)
    return m.group(2) if m else None


# --------------------------------------------------------------------------------------------
# Url mappings


@dataclass
class Mapping:
    path: str  # Grails path as written
    controller: str
    actions: dict[str, str]  # HTTP method (or ANY) -> action
    at: str


def parse_map_literal(src: Source, start: int, end: int) -> dict[str, str]:
    """`[GET: "show", PUT: "update"]` or `controller: "x", action: "y"` -> dict of string values."""
    out: dict[str, str] = {}
    for b, e in split_top(src.skel, start, end):
        m = re.match(r"\s*['\"]?(\w+)['\"]?\s*:(.*)$", src.code[b:e], re.S)
        if m:
            value = literal(m.group(2))
            if value is not None:
                out[m.group(1)] = value
            elif m.group(1) == "action" and "[" in m.group(2):
                k = b + src.code[b:e].index("[", m.start(2))
                for verb, act in parse_map_literal(src, k + 1, match_close(src.skel, k)).items():
                    out["action:" + verb] = act
    return out


def parse_mappings(src: Source) -> list[Mapping]:
    m = re.search(r"static\s+mappings\s*=\s*\{", src.skel)
    if not m:
        return []
    end = match_close(src.skel, m.end() - 1)
    out: list[Mapping] = []
    pos = m.end()
    pattern = re.compile(r"(?:name\s+\w+\s*:\s*)?\"([^\"\n]*)\"\s*(\()?")
    while True:
        hit = pattern.search(src.code, pos, end)
        if not hit:
            break
        if src.skel[hit.start()] != '"' and not src.skel[hit.start()].isalpha():
            pos = hit.end()
            continue
        path = hit.group(1)
        pos = hit.end()
        args: dict[str, str] = {}
        if hit.group(2):
            close = match_close(src.skel, hit.end() - 1)
            args = parse_map_literal(src, hit.end(), close)
            pos = close + 1
        blk = re.match(r"\s*\{", src.skel[pos:end])
        if blk:
            open_ = pos + blk.end() - 1
            close = match_close(src.skel, open_)
            body = src.code[open_ + 1 : close]
            for a in re.finditer(r"\b(action|controller)\s*=\s*", body):
                k = open_ + 1 + a.end()
                if src.skel[k] == "[":
                    for verb, act in parse_map_literal(src, k + 1, match_close(src.skel, k)).items():
                        args["action:" + verb] = act
                else:
                    lit = re.match(r"(['\"])(\w+)\1", src.code[k:])
                    if lit:
                        args[a.group(1)] = lit.group(2)
            pos = close + 1
        if not path.startswith("/"):
            continue  # "403", "500": error pages
        actions = {k.split(":", 1)[1]: v for k, v in args.items() if k.startswith("action:")}
        if not actions and "action" in args:
            actions = {"ANY": args["action"]}
        if not actions and "$action" in path:
            actions = {"ANY": "$action"}
        if "controller" in args or "$controller" in path:
            out.append(Mapping(path, args.get("controller", "$controller"), actions, src.at(hit.start())))
    return out


def norm_path(path: str) -> tuple[str, list[str], str]:
    """Grails path -> (inventory path, placeholder names, format suffix as written)."""
    suffix = ""
    fm = re.search(r"\.(\$format\??|json)(?=$|\?)", path)
    if fm:
        suffix = "." + fm.group(1)
        path = path[: fm.start()] + ".json" + path[fm.end() :]
    names = re.findall(r"\$(\w+)\??", path)
    out = re.sub(r"\$(\w+)\??", r"{\1}", path)
    return out, names, suffix


# --------------------------------------------------------------------------------------------
# Classes and methods


@dataclass
class MethodInfo:
    name: str
    cls: ClassInfo
    params: list[str]
    body_start: int  # offset of "{"
    body_end: int  # offset of "}"
    at: int  # offset of the declaration
    required: int = 0  # formal parameters without a Groovy default value
    returns: str = "def"  # declared return type, generics dropped (`def` when not declared)

    @property
    def src(self) -> Source:
        return self.cls.src

    def accepts(self, nargs: int) -> bool:
        return self.required <= nargs <= len(self.params)


@dataclass
class ClassInfo:
    name: str
    base: str | None
    src: Source
    methods: dict[str, list[MethodInfo]] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)  # member name -> declared type (`def` kept)


METHOD_DECL = re.compile(
    r"(?:^|\n)[ \t]*(?:@\w+(?:\([^)]*\))?\s*)*"
    r"(?:(?:(?:public|protected|private|static|final|synchronized)\s+)+(?=\w+\s*\()|"  # `private doSearch(...)`
    r"(?:(?:public|protected|private|static|final|synchronized)\s+)*"
    r"(?P<ret>def|void|[A-Z][\w.]*(?:<[^>{;]*>)?(?:\[\])?|boolean|int|long|double)\s+)(?P<name>\w+)\s*"
    r"(?:\((?P<formals>(?:[^()]|\([^()]*\))*)\)\s*(?:throws\s+[\w.,\s]+)?\{|=\s*\{)"
)


def parse_classes(src: Source) -> list[ClassInfo]:
    out: list[ClassInfo] = []
    for m in re.finditer(r"\bclass\s+(\w+)(?:\s+extends\s+([\w.]+))?[^{;]*\{", src.skel):
        cls = ClassInfo(m.group(1), m.group(2).rsplit(".", 1)[-1] if m.group(2) else None, src)
        start, end = m.end() - 1, match_close(src.skel, m.end() - 1)
        # members at depth 1 only
        depth, i = 0, start + 1
        segments: list[tuple[int, int]] = []
        seg = i
        while i < end:
            c = src.skel[i]
            if c == "{":
                if depth == 0:
                    segments.append((seg, i + 1))
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    seg = i + 1
            i += 1
        for seg_start, seg_end in segments:
            text = src.skel[seg_start:seg_end]
            found = list(METHOD_DECL.finditer(text))
            dm = found[-1] if found else None
            if dm is None or seg_start + dm.end() != seg_end:
                continue
            open_ = seg_end - 1
            # top-level commas only (a default value may be `[sort: "created", max: 1]`)
            formals = [p for p in re.split(r",(?![^()\[\]]*[)\]])", dm.group("formals") or "") if p.strip()]
            params = [p.split("=")[0].split()[-1] for p in formals]
            at = seg_start + dm.start("name")
            info = MethodInfo(dm.group("name"), cls, params, open_, match_close(src.skel, open_), at)
            info.required = sum(1 for p in formals if "=" not in p)
            info.returns = (dm.group("ret") or "def").split("<")[0].rsplit(".", 1)[-1]
            cls.methods.setdefault(info.name, []).append(info)
        # member fields (`def imageServerService`, `ImageServerService imageServerService`): the class
        # body with nested blocks blanked
        top: list[str] = []
        depth = 0
        for c in src.skel[start + 1 : end]:
            if c == "{":
                depth += 1
            top.append(c if depth == 0 or c == "\n" else " ")
            if c == "}":
                depth -= 1
        for fm in re.finditer(
            r"(?:^|\n)[ \t]*(?:(?:public|protected|private|static|final|transient)\s+)*"
            r"(def|[A-Z][\w.]*)\s+(\w+)[ \t]*(?=$|\n|=|;)",
            "".join(top),
        ):
            cls.fields.setdefault(fm.group(2), fm.group(1).rsplit(".", 1)[-1])
        out.append(cls)
    return out


class Index:
    def overloads(self, cls: ClassInfo | None, name: str) -> list[MethodInfo]:
        """The methods `name` of the first class of `cls`'s inheritance chain that declares it."""
        seen: set[str] = set()
        while cls is not None and cls.name not in seen:
            seen.add(cls.name)
            if name in cls.methods:
                return cls.methods[name]
            cls = self.classes.get(cls.base) if cls.base else None
        return []

    def __init__(self, root: Path) -> None:
        self.root = root
        self.classes: dict[str, ClassInfo] = {}
        self.domains: set[str] = set()
        for folder in ("grails-app/controllers", "grails-app/services", "src/groovy"):
            for path in sorted((root / folder).rglob("*.groovy")):
                for cls in parse_classes(load(path, root)):
                    self.classes.setdefault(cls.name, cls)
        for path in (root / "grails-app/domain").rglob("*.groovy"):
            self.domains.add(path.stem)
        self.shapes = Shapes(self)

    def controller(self, name: str) -> ClassInfo | None:
        return self.classes.get(name[:1].upper() + name[1:] + "Controller")

    def find_method(self, cls: ClassInfo | None, name: str, nargs: int | None = None) -> MethodInfo | None:
        """The first method `name` of `cls`'s inheritance chain (taking `nargs` arguments, if given)."""
        seen: set[str] = set()
        while cls is not None and cls.name not in seen:
            seen.add(cls.name)
            for method in cls.methods.get(name, []):
                if nargs is None or method.accepts(nargs):
                    return method
            cls = self.classes.get(cls.base) if cls.base else None
        return None

    def receiver(self, cls: ClassInfo, name: str | None) -> ClassInfo | None:
        """The class a call `name.m(...)` made in `cls` goes to: `this`/none -> `cls`; an injected field
        (`def imageServerService` -> ImageServerService, or its declared type); a class name (static)."""
        if name is None or name == "this":
            return cls
        if name[0].isupper():
            return self.classes.get(name)
        seen: set[str] = set()
        c: ClassInfo | None = cls
        while c is not None and c.name not in seen:
            seen.add(c.name)
            declared = c.fields.get(name)
            if declared is not None:
                if declared != "def" and declared in self.classes:
                    return self.classes[declared]
                break
            c = self.classes.get(c.base) if c.base else None
        if name.endswith("ServiceProxy"):  # Cytomine's scoped-proxy beans (currentRoleServiceProxy)
            name = name.removesuffix("Proxy")
        if name.endswith("Service"):  # Grails injects services by property name, also undeclared in base classes
            return self.classes.get(name[:1].upper() + name[1:])
        return None

    def actions(self, cls: ClassInfo) -> list[str]:
        return [
            n
            for n, ms in cls.methods.items()
            if not ms[0].src.code[ms[0].at - 40 : ms[0].at].strip().endswith(("private", "protected"))
        ]


# --------------------------------------------------------------------------------------------
# Value shapes: what an expression answered by `responseSuccess` is. RestController.responseSuccess
# pages any List/Collection at run time (offset/max, RestController.groovy:184-222), so the
# paging parameters apply exactly when the value is one; follow it through locals, ternaries,
# collection methods and the methods (same class, services) that build it.

LIST_TYPES = {
    "List", "ArrayList", "LinkedList", "Collection", "Set", "HashSet", "LinkedHashSet", "TreeSet",
    "SortedSet", "JSONArray",  # grails' JSONArray implements java.util.List
}  # fmt: skip
MAP_TYPES = {"Map", "HashMap", "LinkedHashMap", "TreeMap", "JSONObject", "JSONElement"}
SCALAR_TYPES = {"Object", "Long", "Integer", "Boolean", "Double", "boolean", "int", "long", "double", "void", "def"}
# collection methods whose result is a List/Collection whatever the receiver (Map.collect -> List,
# Map.values() -> Collection); GORM/SQL queries answering lists
TO_LIST = {"collect", "collectMany", "flatten", "values", "toList", "keySet", "subList", "asList", "unique"}
QUERY_LISTS = {"list", "listDistinct", "findAll", "getAll", "executeQuery", "rows", "findAllWhere"}
# methods answering a value of the receiver's own kind (List.findAll -> List, Map.findAll -> Map)
SAME_KIND = {"sort", "findAll", "grep", "reverse", "take", "drop", "plus", "minus", "asImmutable"}
BLOCK_WORDS = ("if", "for", "while", "catch", "switch", "synchronized")
CONTINUES_AFTER = tuple(",([{+-*/%&|?:=.<>!")  # a line ending so goes on on the next one
CONTINUES_BEFORE = (".", "?.", "?:", ":", "?", "+", "-", "*", "&&", "||", ")", "]")


def match_open(skel: str, close: int) -> int:
    """Offset of the bracket opening the one at `close` (-1 if none)."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack = [pairs[skel[close]]]
    for i in range(close - 1, -1, -1):
        c = skel[i]
        if c in pairs:
            stack.append(pairs[c])
        elif c in "([{":
            if stack and stack[-1] == c:
                stack.pop()
            if not stack:
                return i
    return -1


def stmt_end(skel: str, start: int, limit: int) -> int:
    """End of the statement starting at `start`: `;`, an unmatched closing bracket or a newline at
    bracket depth 0 that neither the line before nor the line after continues."""
    depth, i = 0, start
    while i < limit:
        c = skel[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return i
            depth -= 1
        elif depth == 0 and c == ";":
            return i
        elif depth == 0 and c == "\n":
            before = skel[start:i].rstrip()
            after = skel[i:limit].lstrip()
            if before and not before.endswith(CONTINUES_AFTER) and not after.startswith(CONTINUES_BEFORE):
                return i
        i += 1
    return limit


def in_closure(skel: str, body_start: int, pos: int) -> bool:
    """`pos` lies in a closure (`.each { ... }`, a criteria block) opened inside the method body at
    `body_start`, not only in if/else/for/try blocks: a `return` there leaves the closure only."""
    opens: list[int] = []
    for i in range(body_start + 1, pos):
        if skel[i] == "{":
            opens.append(i)
        elif skel[i] == "}" and opens:
            opens.pop()
    for o in opens:
        before = skel[body_start:o].rstrip()
        if re.search(r"(?<!\w)(else|try|finally|do)$", before):
            continue
        if before.endswith(")"):
            k = body_start + len(before) - 1
            open_ = match_open(skel, k)
            if re.search(rf"(?<!\w)(?:{'|'.join(BLOCK_WORDS)})\s*$", skel[body_start:open_]):
                continue
        return True
    return False


def branch_end(skel: str, pos: int, limit: int) -> int:
    """End (exclusive) of the statement or block starting at or after `pos`: an `if` with its `else` parts."""
    while pos < limit and skel[pos] in " \t\n":
        pos += 1
    if pos >= limit:
        return limit
    if skel[pos] == "{":
        return match_close(skel, pos) + 1
    cond = re.match(r"if\s*\(", skel[pos:limit])
    if cond:
        close = match_close(skel, pos + cond.end() - 1)
        end = branch_end(skel, close + 1, limit)
        other = re.match(r"\s*else\b", skel[end:limit])
        return branch_end(skel, end + other.end(), limit) if other else end
    return stmt_end(skel, pos, limit)


def combine(shapes: list[str]) -> str:
    """One shape for a value built along several paths: a list when every known path answers one;
    the non-list shape when any known path does not (paging then only sometimes applies: not claimed)."""
    known = [s for s in shapes if s != "unknown"]
    if not known:
        return "unknown"
    others = [s for s in known if not s.startswith("list:")]
    return others[0] if others else known[0]


def bare(shape: str) -> str:
    """A value rendered `as JSON` as it is (RestController.response(data), `render x as JSON`), not
    through responseSuccess/responseList: a List/Collection is a bare JSON array, not a paged listing
    (an `envelope`, a `[collection: ...]` map already built, stays one)."""
    return "array:" + shape.removeprefix("list:") if shape.startswith("list:") else shape


def shadows_response(skel: str) -> bool:
    """A body declaring a local `response` (`def response = ...`): there `response` is not the servlet's."""
    return bool(re.search(r"(?<![\w.])(?:def|final|[A-Z][\w.]*(?:<[^>;=]*>)?)\s+response\s*(?:=(?!=)|;|$)", skel, re.M))


def strip_parens(code: str) -> str:
    code = code.strip()
    while code.startswith("(") and match_close(lex(code)[1], 0) == len(code) - 1:
        code = code[1:-1].strip()
    return code


class Shapes:
    """The shape of expressions and method results: list:T (a List/Collection), envelope (a
    `[collection: ...]` map), object:T, other, string or unknown."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.results: dict[tuple[str, int], str] = {}  # method -> shape of what it returns

    def type_shape(self, typ: str) -> str | None:
        base = typ.split("<")[0].rsplit(".", 1)[-1].removesuffix("[]")
        if base in LIST_TYPES:
            elem = re.search(r"<\s*([\w.]+)\s*>", typ)
            return f"list:{elem.group(1).rsplit('.', 1)[-1] if elem else 'Object'}"
        if base in MAP_TYPES:
            return "other"
        if base in ("String", "GString"):
            return "string"
        if typ.endswith("[]"):
            return "other"  # an array is no List: responseSuccess does not page it
        if base[:1].isupper() and base not in SCALAR_TYPES:
            return f"object:{base}"
        return None

    def shape_of(self, m: MethodInfo, expr: str, depth: int = 0) -> str:
        e = strip_parens(expr)
        if not e or depth > 8:
            return "unknown"
        code, skel = lex(e)
        # `c ? a : b` and `a ?: b`: both branches
        branches = self.branches(code, skel)
        if branches:
            return combine([self.shape_of(m, b, depth + 1) for b in branches])
        if e.startswith("["):
            if re.match(r"\[\s*(collection|aaData)\s*:", e):
                return "envelope"  # a listing already paged: a Map, not paged again (written list:Object)
            # a map literal: `[:]`, `[key: v]`, `["key": v]`, `[(expr): v]`, `[$match: v]`
            if re.match(r"""\[\s*(?::|(?:"[^"]*"|'[^']*'|[\w$]+|\([^)]*\))\s*:(?!:))""", e):
                return "other"
            return "list:Object"
        new = re.match(r"new\s+([\w.]+(?:<[^>]*>)?)\s*(\(|\[)", e)
        if new:
            return self.type_shape(new.group(1)) or "unknown"
        if re.fullmatch(r"\w+", e):
            return self.variable(m, e, depth)
        tail = self.tail(code, skel)
        if tail is None:
            return "unknown"
        recv, name, nargs = tail
        if nargs is None:  # a property: `doSearch(params).result` is the `result:` entry of its map
            return self.entry(m, recv, name, depth) if recv else "unknown"
        if name in TO_LIST:
            return "list:Object"
        if name in SAME_KIND and recv and not recv[:1].isupper():
            return self.shape_of(m, recv, depth + 1)
        if recv and recv[:1].isupper() and recv in self.index.domains:
            if name in QUERY_LISTS or name.startswith("findAllBy"):
                return "list:Object"
            if re.match(r"(read|get|find|findBy|load)", name):
                return f"object:{recv}"
        callees = self.callees(m, recv, name, nargs)
        if callees:
            found = combine([self.result(c, depth + 1) for c in callees])
            if found != "unknown":
                return found
        # not resolved (or nothing known of it): the method's name
        if name in QUERY_LISTS or re.match(r"(list|findAll|getAll|search)|.*(List|All)$", name) or name == "findAllBy":
            return "list:Object"
        if recv and recv.endswith("Service") and re.match(r"(read|get|retrieve|find|show|fetch)\b", name):
            dom = recv[:1].upper() + recv[1:-7]
            return f"object:{dom}" if dom in self.index.domains else "object:Object"
        if name in ("size", "count", "countBy"):
            return "other"
        return "unknown"

    @staticmethod
    def branches(code: str, skel: str) -> list[str]:
        depth = 0
        for i, c in enumerate(skel):
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == "?" and depth == 0 and skel[i + 1 : i + 2] not in (".", "["):
                if skel[i + 1 : i + 2] == ":":  # elvis
                    return [code[:i], code[i + 2 :]]
                nested, d = 0, 0
                for j in range(i + 1, len(skel)):
                    cj = skel[j]
                    if cj in "([{":
                        d += 1
                    elif cj in ")]}":
                        d -= 1
                    elif d == 0 and cj == "?" and skel[j + 1 : j + 2] not in (".", ":", "["):
                        nested += 1
                    elif d == 0 and cj == ":":
                        if nested == 0:
                            return [code[i + 1 : j], code[j + 1 :]]
                        nested -= 1
                return []
        return []

    @staticmethod
    def tail(code: str, skel: str) -> tuple[str | None, str, int | None] | None:
        """The last member of a chain `recv.name(args) { closure }`: (receiver text or None, name,
        argument count or None for a property access)."""
        i = len(skel.rstrip())
        nargs: int | None = None
        if i and skel[i - 1] == "}":  # trailing closure: an argument
            i = match_open(skel, i - 1)
            nargs = 1
            i = len(skel[:i].rstrip())
        if i and skel[i - 1] == ")":
            open_ = match_open(skel, i - 1)
            nargs = (nargs or 0) + len(split_top(skel, open_ + 1, i - 1))
            i = len(skel[:open_].rstrip())
        nm = re.search(r"(\w+)$", skel[:i])
        if not nm or i <= 0:
            return None
        before = skel[: nm.start()].rstrip()
        if not before:
            return None, nm.group(1), nargs
        if before.endswith((".", "?.", "*.")):
            recv = code[: len(before.rstrip("?*."))].strip()
            return strip_parens(recv), nm.group(1), nargs
        return None

    def callees(self, m: MethodInfo, recv: str | None, name: str, nargs: int) -> list[MethodInfo]:
        if recv is not None and not re.fullmatch(r"\w+", recv):
            return []
        target = self.index.receiver(m.cls, recv)
        if target is None:
            return []
        found = [c for c in self.index.overloads(target, name) if c.accepts(nargs) and c.cls.name != "RestController"]
        # Groovy picks the overload by the arguments' types: at least prefer the ones taking exactly
        # as many arguments (`list(project)` is `list(Project)`, not `list(SecUser, Project = null, ...)`)
        exact = [c for c in found if len(c.params) == nargs]
        return exact or found

    def result(self, m: MethodInfo, depth: int) -> str:
        """What `m` returns: its declared type, else its `return` values and its last statement."""
        declared = self.type_shape(m.returns) if m.returns != "def" else None
        if declared:
            return declared
        if m.returns == "void":
            return "unknown"
        key = (m.cls.name, m.at)
        if key in self.results:
            return self.results[key]
        self.results[key] = "unknown"  # cycle guard
        shape = combine([self.shape_of(m, e, depth) for e in self.returned(m)])
        self.results[key] = shape
        return shape

    @staticmethod
    def statements(m: MethodInfo) -> list[tuple[int, int]]:
        """Top-level statements of `m`'s body."""
        skel = m.src.skel
        out: list[tuple[int, int]] = []
        i = m.body_start + 1
        while i < m.body_end:
            if skel[i] in " \t\n;":
                i += 1
                continue
            end = max(stmt_end(skel, i, m.body_end), i + 1)
            out.append((i, end))
            i = end
        return out

    def returned(self, m: MethodInfo) -> list[str]:
        """The expressions `m` returns: `return x` outside closures, and a last expression statement."""
        src = m.src
        out: list[str] = []
        for hit in re.finditer(r"(?<![\w.])return\b", src.skel[m.body_start : m.body_end]):
            at = m.body_start + hit.end()
            if in_closure(src.skel, m.body_start, at):
                continue
            out.append(src.code[at : stmt_end(src.skel, at, m.body_end)])
        stmts = self.statements(m)
        if stmts:
            b, e = stmts[-1]
            last = src.code[b:e].strip()
            statement = rf"(?:return|throw|def|try|else|{'|'.join(BLOCK_WORDS)}|[A-Z][\w.<>,\s]*\s+\w+\s*=)\b"
            # not a statement without value, a declaration, an assignment or an append
            if not re.match(statement, last) and not re.match(r"[\w.]+\s*(?:=(?!=)|<<|\+=)", last):
                out.append(last)
        return out

    def variable(self, m: MethodInfo, var: str, depth: int) -> str:
        """A local: its declared type, else what every assignment gives it."""
        src = m.src
        body = src.code[m.body_start : m.body_end]
        typed = re.search(rf"(?:^|[\s(;])([A-Z][\w.]*(?:<[^>=;]*>)?(?:\[\])?)\s+{var}\s*(?:=(?!=)|$|;|\n)", body)
        if typed:
            declared = self.type_shape(typed.group(1))
            if declared:
                return declared
        if var in m.params:
            return "unknown"
        shapes = []
        for a in re.finditer(rf"(?<![\w.]){var}\s*=(?!=)", body):
            at = m.body_start + a.end()
            shapes.append(self.shape_of(m, src.code[at : stmt_end(src.skel, at, m.body_end)], depth + 1))
        return combine(shapes)

    def entry(self, m: MethodInfo, recv: str, key: str, depth: int) -> str:
        """`call(...).key`: the `key:` entry of the map literals the called method returns."""
        code, skel = lex(recv)
        tail = self.tail(code, skel)
        if tail is None or tail[2] is None:
            return "unknown"
        shapes = []
        for callee in self.callees(m, tail[0], tail[1], tail[2]):
            for value in self.returned(callee):
                vcode, vskel = lex(value.strip())
                if not vskel.startswith("["):
                    continue
                for b, e in split_top(vskel, 1, match_close(vskel, 0)):
                    km = re.match(rf"\s*['\"]?{key}['\"]?\s*:", vcode[b:e])
                    if km:
                        shapes.append(self.shape_of(callee, vcode[b + km.end() : e], depth + 1))
        return combine(shapes)


# --------------------------------------------------------------------------------------------
# Handler analysis


def null_checked(code: str, expr: str) -> bool:
    """`expr` is tested for presence somewhere (`expr != null`, `if (expr)`, `expr ?:`, `!expr`)."""
    e = re.escape(expr)
    return bool(
        re.search(
            rf"{e}\s*(?:[!=]=\s*null|\?(?!\.)|&&|\|\|)|(?:!|if\s*\(\s*|&&\s*|\|\|\s*)\s*{e}\s*(?:\)|&&|\|\|)", code
        )
    )


class HandlerReader:
    """Reads one action: its parameter reads, body reads and response shapes."""

    def __init__(self, index: Index, action: MethodInfo, placeholders: frozenset[str] = frozenset()) -> None:
        self.index = index
        self.action = action
        self.placeholders = placeholders  # the mapping's path placeholders that are never absent (`$id`, not `$id?`)
        self.query: dict[str, QueryParam] = {}
        self.types: dict[str, str] = {}  # param name -> type from a typed read (for path params)
        self.body_fields: dict[str, dict[str, Any]] = {}
        self.body_json = False
        self.body_array = False
        self.parts: dict[str, dict[str, Any]] = {}
        self.raw_body = False
        self.shapes: list[str] = []
        self.throws: list[str] = []  # exceptions thrown by the action and what it calls
        self.exprs: list[str] = []
        self.merges_json = False  # the action copies the JSON body's keys into params
        self.or_body: set[str] = set()  # parameters read from the JSON body when the query lacks them
        self.visited: set[tuple[str, str]] = set()
        # (class, method offset, formal, p|j, keys set before) followed -> the call depth it was reached at
        self.passed: dict[tuple[str, int, str, str, frozenset[str]], int] = {}
        self.answered: set[tuple[str, int, frozenset[str]]] = set()  # response(data) overrides read (follow_response)
        self.written: set[tuple[str, int, str]] = set()  # (class, method offset, formal) followed by follow_writes

    def add_param(
        self,
        name: str,
        type_: str,
        default: str | None,
        origin: str,
        at: str,
        checked: bool,
        skip: frozenset[str] = frozenset(),
    ) -> None:
        if name in GRAILS_PARAMS or name in skip:
            return
        if type_ != "String" or name not in self.types:
            self.types.setdefault(name, type_)
            if type_ != "String":
                self.types[name] = type_
        required: bool | None = False if default is not None or checked else None
        old = self.query.get(name)
        if old is None:
            self.query[name] = QueryParam(name, required, type_, default, origin, "query", at)
        else:
            if old.type == "String" and type_ != "String":
                old.type = type_
            if old.default is None and default is not None:
                old.default = default
            if required is False:
                old.required = False

    # -- parameter reads on a variable (`params` in controllers, the formal name in services) ----
    def read_params(self, m: MethodInfo, var: str, origin: str, skip: frozenset[str] = frozenset()) -> None:
        src = m.src
        start, end = m.body_start, m.body_end
        code = src.code[start:end]
        skel = src.skel[start:end]
        v = re.escape(var)
        # the arguments of the error helpers (`responseNotFound("Annotation", params.id)`) only echo a value
        # in the 404/400 message: a key read only there does not change what the operation does
        echoes = [
            (e.end(), match_close(skel, e.end() - 1))
            for e in re.finditer(rf"(?<![\w.])(?:{'|'.join(ERROR_HELPERS)})\s*\(", skel)
        ]

        dead = self.dead_branches(m) if var == "params" else []

        def echoed(at: int) -> bool:
            return any(b <= at < e for b, e in echoes) or any(b <= start + at < e for b, e in dead)

        for hit in re.finditer(rf"(?<![\w.]){v}\??\.(\w+)\s*\(\s*(['\"])([^'\"]+)\2\s*(?:,([^)]*))?\)", code):
            if skel[hit.start()] != var[0] or echoed(hit.start()):
                continue
            acc = hit.group(1)
            if acc not in ACCESSORS:
                continue
            if acc == "remove" and re.search(r"(?:^|[;{}\n])\s*$", code[: hit.start()]):
                continue  # `params.remove("x")` as a statement drops the key, its value is not used
            default = hit.group(4).strip() if hit.group(4) else None
            if re.match(rf"\s*\?:\s*request\.JSON\??\.{re.escape(hit.group(3))}\b", code[hit.end() :]):
                self.or_body.add(hit.group(3))  # `params.long("image") ?: request.JSON?.image`
            checked = acc == "containsKey" or null_checked(code, f"{var}.{hit.group(3)}")
            self.add_param(hit.group(3), ACCESSORS[acc], default, origin, src.at(start + hit.start()), checked, skip)
        for hit in re.finditer(rf"(?<![\w.]){v}\[\s*(['\"])([^'\"]+)\1\s*\]", code):
            if skel[hit.start()] != var[0] or echoed(hit.start()):
                continue
            checked = null_checked(code, hit.group(0))
            self.add_param(hit.group(2), "String", None, origin, src.at(start + hit.start()), checked, skip)
        for hit in re.finditer(rf"(?<![\w.]){v}\??\.(\w+)\b(?!\s*\()", code):
            if skel[hit.start()] != var[0] or hit.group(1) in NOT_PARAMS - {"sort"} or echoed(hit.start()):
                continue
            after = code[hit.end() : hit.end() + 3]
            if re.match(r"\s*=[^=]", after):  # an assignment (params.format = 'png')
                continue
            checked = null_checked(code, f"{var}.{hit.group(1)}") or null_checked(code, f"{var}?.{hit.group(1)}")
            default = None
            dm = re.match(r"\s*\?:\s*([\w.'\"-]+)", code[hit.end() :])
            if dm:
                default = dm.group(1).strip("'\"")
            self.add_param(hit.group(1), "String", default, origin, src.at(start + hit.start()), checked, skip)
        self.read_computed(m, var, origin, skip)
        if var == "params":  # the servlet request's own accessor: a query parameter or a multipart form field
            for hit in re.finditer(r"(?<![\w.])request\s*\)?\s*\.\s*getParameter\s*\(\s*(['\"])([^'\"]+)\1\s*\)", code):
                checked = null_checked(code, hit.group(0))
                self.add_param(hit.group(2), "String", None, origin, src.at(start + hit.start()), checked, skip)

    def dead_branches(self, m: MethodInfo) -> list[tuple[int, int]]:
        """Spans of `m` (source offsets) this action never runs: an `if` whose condition tests the running
        action and excludes this one (`!(["windowUrl", ...].contains(params.action.GET))`: the condition and
        its block), and the `else` part of `if (params.x)` when `x` is a path placeholder (always set)."""
        skel, code = m.src.skel, m.src.code
        out: list[tuple[int, int]] = []
        for hit in re.finditer(r"(?<![\w.])if\s*\(", skel[m.body_start : m.body_end]):
            open_ = m.body_start + hit.end() - 1
            close = match_close(skel, open_)
            then_end = branch_end(skel, close + 1, m.body_end)
            cond = code[open_ + 1 : close]
            for test in ACTION_TEST.finditer(cond):
                if test.group(2) is not None:
                    names = set(re.findall(r"['\"](\w+)['\"]", test.group(2)))
                    runs = (self.action.name in names) != bool(test.group(1))
                else:
                    runs = (self.action.name == test.group(5)) == (test.group(3) == "==")
                if not runs:
                    out.append((open_, then_end))
            present = re.fullmatch(r"\s*params\s*\??\.\s*(\w+)\s*", cond)
            other = re.match(r"\s*else\b", skel[then_end : m.body_end])
            if present and present.group(1) in self.placeholders and other:
                out.append((then_end, branch_end(skel, then_end + other.end(), m.body_end)))
        return out

    def follow_response(self, m: MethodInfo, cls: ClassInfo, offset: int) -> None:
        """`m` answers through RestController.response(data) (ANSWER_HELPERS, call at `offset`): the
        request reads of `cls`'s override of response(data), if its chain below RestController has one,
        count for the action; keys `m` sets on `params` before the call are not the request's."""
        override = self.index.find_method(cls, "response", 1)
        if override is None or override.cls.name == "RestController" or override is m:
            return
        skip = frozenset(self.assigned_before(m, "params", offset))
        key = (override.cls.name, override.at, skip)
        if key in self.answered:
            return
        self.answered.add(key)
        self.read_params(override, "params", f"callee:{override.cls.name}.{override.name}", skip)

    def read_computed(self, m: MethodInfo, var: str, origin: str, skip: frozenset[str]) -> None:
        """Reads under computed names: `assoc.each { show, group -> params.getBoolean(show) }` over a local
        map literal with literal keys (ParamsService.getPropertyGroupToShow's showX/hideX switches, the
        analogue of extract_spring's ParamsService expansion): one read per key, with the closure's
        `key.replace('a', 'b')` applied when the name is built so."""
        src = m.src
        code = src.code[m.body_start : m.body_end]
        skel = src.skel[m.body_start : m.body_end]
        v = re.escape(var)
        for each in re.finditer(r"(?<![\w.])(\w+)\s*\.\s*each\s*\{\s*(\w+)\s*,\s*\w+\s*->", skel):
            keys = self.literal_keys(m, each.group(1), each.start())
            if not keys:
                continue
            close = match_close(skel, skel.index("{", each.start()))
            name = re.escape(each.group(2))
            for hit in re.finditer(
                rf"(?<![\w.]){v}\??\.(\w+)\s*\(\s*{name}\s*"
                rf"(?:\.\s*replace\s*\(\s*(['\"])(\w*)\2\s*,\s*(['\"])(\w*)\4\s*\)\s*)?\)",
                code[each.end() : close],
            ):
                if hit.group(1) not in ACCESSORS:
                    continue
                at = src.at(m.body_start + each.end() + hit.start())
                for key in keys:
                    read = key.replace(hit.group(3), hit.group(5)) if hit.group(2) else key
                    self.add_param(read, ACCESSORS[hit.group(1)], None, origin, at, True, skip)

    @staticmethod
    def literal_keys(m: MethodInfo, local: str, before: int) -> list[str]:
        """The literal keys of the map literal last assigned to `local` in `m` before `before`."""
        src = m.src
        skel = src.skel[m.body_start : m.body_start + before]
        decls = list(re.finditer(rf"(?<![\w.]){re.escape(local)}\s*=\s*\[", skel))
        if not decls:
            return []
        open_ = m.body_start + decls[-1].end() - 1
        keys = []
        for b, e in split_top(src.skel, open_ + 1, match_close(src.skel, open_)):
            km = re.match(r"\s*(['\"]?)(\w+)\1\s*:", src.code[b:e])
            if not km:
                return []
            keys.append(km.group(2))
        return keys

    # -- the body: request.JSON and what is read from it ----------------------------------------------
    def read_body(self, m: MethodInfo) -> None:
        src = m.src
        start, end = m.body_start, m.body_end
        code = src.code[start:end]
        skel = src.skel[start:end]
        if re.search(r"request\.(JSON|getJSON\(\))", skel):
            self.body_json = True
        if re.search(
            r"request\.JSON\s*(instanceof\s+JSONArray|\.each|\.collect|\[\s*\d)|JSONArray\s+\w+\s*=\s*request\.JSON",
            skel,
        ):
            self.body_array = True
        self.read_json_fields(m, {"request.JSON", *self.json_names(m)}, "handler")
        # `request.getFile('x')`, also through a cast: `((MultipartHttpServletRequest) request).getFile('x')`
        request = r"(?:request|\(\s*\(\s*[\w.]*MultipartHttpServletRequest\s*\)\s*request\s*\))"
        for hit in re.finditer(rf"{request}\.(?:getFile|getFiles)\s*\(\s*(['\"])([^'\"]+)\1", code):
            self.parts.setdefault(hit.group(2), {"name": hit.group(2), "type": "MultipartFile", "required": None})
        if re.search(r"request\.(multiFileMap|fileNames|getFileMap|getMultiFileMap)", skel):
            self.parts.setdefault("*", {"name": "*", "type": "MultipartFile", "required": None})
        if re.search(r"request\.(inputStream|getInputStream\(\)|reader|getReader\(\))", skel):
            self.raw_body = True

    def read_json_fields(self, m: MethodInfo, names: set[str], origin: str) -> None:
        """Keys read on the JSON body, known in `m` under `names`."""
        src = m.src
        start, end = m.body_start, m.body_end
        code = src.code[start:end]
        skel = src.skel[start:end]
        extra = {} if origin == "handler" else {"origin": origin}
        for var in sorted(names):
            v = re.escape(var)
            for hit in re.finditer(rf"(?<![\w.]){v}\??\.(\w+)\b(\s*\(\s*(['\"])([^'\"]+)\3)?", code):
                if not skel[hit.start()].isalpha():
                    continue
                key = hit.group(4) if hit.group(2) else hit.group(1)
                accessor = hit.group(1) if hit.group(2) else "."
                if not hit.group(2) and (hit.group(1) in NOT_PARAMS or hit.group(1)[0].isupper()):
                    continue
                if not hit.group(2) and re.match(r"\s*\(", code[hit.end() :]):
                    continue  # a method call without a literal key
                if hit.group(1) in ("put", "remove") and hit.group(2):
                    continue
                if not hit.group(2) and re.match(r"\s*=[^=]", code[hit.end() : hit.end() + 3]):
                    continue  # written, not read (`json.user = currentUser.id` before the service adds it)
                self.body_fields.setdefault(
                    key,
                    {"name": key, "required": None, "read": accessor, "line": src.at(start + hit.start()), **extra},
                )
            for hit in re.finditer(rf"(?<![\w.]){v}\[\s*(['\"])([^'\"]+)\1\s*\]", code):
                if skel[hit.start()].isalpha():
                    self.body_fields.setdefault(
                        hit.group(2),
                        {
                            "name": hit.group(2),
                            "required": None,
                            "read": "[]",
                            "line": src.at(start + hit.start()),
                            **extra,
                        },
                    )

    # -- the response ------------------------------------------------------------------------
    def shape_of(self, m: MethodInfo, expr: str) -> str:
        return self.index.shapes.shape_of(m, expr)

    def add_shape(self, shape: str) -> None:
        shape = "list:Object" if shape == "envelope" else shape
        if shape not in self.shapes:
            self.shapes.append(shape)

    def read_response(self, m: MethodInfo, cls: ClassInfo) -> None:
        src = m.src
        start, end = m.body_start, m.body_end
        skel = src.skel[start:end]
        code = src.code[start:end]
        for hit in re.finditer(r"(?<![\w.])(\w+)\s*\(", skel):
            name = hit.group(1)
            open_ = start + hit.end() - 1
            close = match_close(src.skel, open_)
            args = split_top(src.skel, open_ + 1, close)
            first = src.code[args[0][0] : args[0][1]] if args else ""
            at = src.at(open_)
            if name in ANSWER_HELPERS and self.index.find_method(cls, name) is not None:
                self.follow_response(m, cls, open_)
            if name == "responseSuccess" or name == "responseList":
                if re.match(r"\s*\[\s*success\s*:\s*false", first):
                    continue
                shape = "list:Object" if name == "responseList" else self.shape_of(m, first)
                self.add_shape(shape)
                self.exprs.append(f"{name}({first.strip()[:160]})")
                if shape.startswith("list:"):  # a List/Collection: responseList pages it
                    preset = frozenset(self.assigned_before(m, "params", open_))
                    for p, t, dflt in PAGING:
                        self.add_param(p, t, dflt, f"helper:{name}", at, True, preset)
                elif shape == "unknown":
                    # a list is paged by the helper: its offset/max may apply
                    pass
            elif name == "response" and args:
                if re.match(r"\s*\[\s*success\s*:\s*false", first) or (
                    len(args) > 1 and "code" in code[hit.start() :][:0]
                ):
                    continue
                if re.match(r"\s*\[\s*success\s*:\s*false", first):
                    continue
                # response(data) renders `data as JSON` without paging (only responseSuccess/responseList
                # page a List): a list answered here is a bare JSON array
                self.add_shape(bare(self.shape_of(m, first)))
                self.exprs.append(f"response({first.strip()[:160]})")
            elif name in COMMAND_HELPERS and (
                name == "responseResult" or self.index.find_method(cls, name) is not None
            ):
                if name != "responseResult" and self.index.find_method(cls, name) is not m and m.name == name:
                    continue
                self.add_shape("message")
                self.exprs.append(f"{name}(...)")
            elif name in BINARY_HELPERS:
                self.add_shape("binary")
                self.exprs.append(f"{name}(...)")
                preset = frozenset(self.assigned_before(m, "params", open_))
                if "alphaMask" in preset:  # `params.alphaMask || params.type == ...`: type is not evaluated
                    preset |= {"type"}
                for p, t, d in HELPER_PARAMS.get(name, []):
                    self.add_param(p, t, d, f"helper:{name}", at, True, preset)
            elif name == "redirect":
                self.add_shape("redirect")
                self.exprs.append(f"redirect({first.strip()[:160]})")
            elif name == "render":
                self.render(m, src.code[open_ + 1 : close])
        for hit in re.finditer(r"(?<![\w.])render\s+(?!\()([^\n;]+)", skel):
            self.render(m, code[hit.start(1) : hit.end(1)])
        for hit in re.finditer(r"\bthrow\s+new\s+(\w+)", skel):
            self.throws.append(f"throw new {hit.group(1)}(...)")
        if re.search(r"(?<![\w.])response" + OUTPUT_STREAM, skel) and not shadows_response(skel):
            self.add_shape("binary")
            self.exprs.append("response.outputStream")

    def render(self, m: MethodInfo, args: str) -> None:
        a = args.strip()
        self.exprs.append(f"render {a[:160]}")
        if re.search(r"\bas\s+JSON\b", a):  # not paged either: a list is a bare array
            self.add_shape(bare(self.shape_of(m, re.sub(r"\bas\s+JSON\b.*", "", a, flags=re.S))))
        elif re.search(r"\b(file|bytes)\s*:", a) or "image/" in a or "octet" in a:
            self.add_shape("binary")
        elif re.search(r"\bview\s*:|\btemplate\s*:", a):
            self.add_shape("html")
        else:
            self.add_shape("string")

    # -- walking the action and what it calls ------------------------------------------------
    def walk(self, m: MethodInfo, cls: ClassInfo, origin: str, depth: int = 0) -> None:
        key = (m.cls.name, m.name)
        if key in self.visited or depth > 4:
            return
        self.visited.add(key)
        self.read_params(m, "params", origin)
        self.read_body(m)
        # `for (p : request.JSON) { ... params.put(p.key, p.value) }`: the body's keys become parameters, so
        # every parameter is read from the query or the JSON body (Spring's mergeQueryParamsAndBodyParams)
        skel_m = m.src.skel[m.body_start : m.body_end]
        loop = re.search(r"\bfor\s*\(\s*(?:def\s+)?(\w+)\s*(?::|in)\s*request\.JSON\s*\)", skel_m)
        if loop and re.search(rf"\bparams\s*\.\s*put\s*\(\s*{loop.group(1)}\s*\.\s*key\b", skel_m):
            self.merges_json = True
        self.read_response(m, cls)
        if not shadows_response(m.src.skel[m.body_start : m.body_end]):
            self.follow_writes(m, cls, {"response"}, depth)
        src = m.src
        skel = src.skel[m.body_start : m.body_end]
        if re.search(r"(?<![\w.])(getSearchParameters\s*\(|searchParameters\b(?!\s*=))", skel):
            self.add_param("<field>[<op>]", "String", None, "helper:getSearchParameters", src.at(m.body_start), True)
        # same-class (or subclass-chain) methods, not the RestController helpers except the command
        # dispatchers: RestController.add(service, json) calls addOne/addMultiple, which a controller may
        # override (RestRoiAnnotationController.addOne reads params); they are resolved against `cls`.
        # The overload is picked by its number of arguments (the action `add()` calling `add(service, json)`)
        for hit in re.finditer(r"(?<![\w.])(\w+)\s*\(", skel):
            name = hit.group(1)
            open_ = m.body_start + hit.end() - 1
            nargs = len(split_top(src.skel, open_ + 1, match_close(src.skel, open_)))
            callee = self.index.find_method(cls, name, nargs) or self.index.find_method(cls, name)
            if callee is not None and callee.cls.name == "RestController" and name not in ("add", "update", "delete"):
                # RestController.response(data, code) ends in response(data): a controller's override of it
                callee = self.index.find_method(cls, name)
            if callee is None or callee is m:
                continue
            if callee.cls.name == "RestController" and name not in ("add", "update", "delete"):
                continue
            sub = origin if origin != "handler" or callee.cls is cls else f"callee:{callee.cls.name}.{callee.name}"
            self.walk(callee, cls, sub, depth + 1)
        # service and helper methods given the request parameters or the JSON body, transitively
        self.pass_on(m, cls, {"params"}, {"request.JSON", *self.json_names(m)}, depth)
        # forward(controller: "x", action: "y")
        for hit in re.finditer(r"\bforward\s*\(", skel):
            open_ = m.body_start + hit.end() - 1
            close = match_close(src.skel, open_)
            args2 = parse_map_literal(src, open_ + 1, close)
            target_cls = self.index.controller(args2.get("controller", "")) if "controller" in args2 else cls
            if target_cls is None or "action" not in args2:
                continue
            target = self.index.find_method(target_cls, args2["action"])
            if target is not None:
                self.walk(target, target_cls, f"callee:{target_cls.name}.{target.name}", depth + 1)

    def follow_writes(self, m: MethodInfo, ctx: ClassInfo, rvars: set[str], depth: int) -> None:
        """`m` hands the servlet response (`rvars`: its names in `m`) to another method: a service
        (`reportService.createAnnotationDocuments(..., response, ...)`, which writes the report with
        `exportService.export(format, response.outputStream, ...)`) or a method of the class under another
        name. A write to its output stream there, or further down (up to MAX_DEPTH calls, each (method,
        formal) once), makes the answer a file: `binary`. Receivers are resolved as in `pass_on`."""
        if depth >= MAX_DEPTH:
            return
        src = m.src
        skel = src.skel[m.body_start : m.body_end]
        for hit in re.finditer(r"(?<![\w.])(?:(\w+)\s*\.\s*)?(\w+)\s*\(", skel):
            recv, name = hit.group(1), hit.group(2)
            if name in KEYWORDS or recv in ("params", "request", "response"):
                continue
            open_ = m.body_start + hit.end() - 1
            close = match_close(src.skel, open_)
            args = [src.code[b:e].strip() for b, e in split_top(src.skel, open_ + 1, close)]
            passed = [i for i, a in enumerate(args) if a in rvars]
            if not passed:
                continue
            target = self.index.receiver(ctx if recv in (None, "this") else m.cls, recv)
            if target is None:
                continue
            for callee in self.index.overloads(target, name):
                if not callee.accepts(len(args)) or callee.cls.name == "RestController":
                    continue
                for i in passed:
                    formal = callee.params[i]
                    key = (callee.cls.name, callee.at, formal)
                    if key in self.written:
                        continue
                    self.written.add(key)
                    body = callee.src.skel[callee.body_start : callee.body_end]
                    if re.search(rf"(?<![\w.]){re.escape(formal)}{OUTPUT_STREAM}", body):
                        self.add_shape("binary")
                        self.exprs.append(f"{callee.cls.name}.{callee.name}: {formal}.outputStream")
                    self.follow_writes(callee, callee.cls, {formal}, depth + 1)

    def json_names(self, m: MethodInfo) -> set[str]:
        """Locals assigned from `request.JSON` in `m`."""
        skel = m.src.skel[m.body_start : m.body_end]
        return {
            a.group(1)
            for a in re.finditer(
                r"\b(?:def|JSONObject|JSONElement|Map|JSONArray|var)\s+(\w+)\s*=\s*request\.JSON\b(?!\.)", skel
            )
        }

    def assigned_before(self, m: MethodInfo, var: str, offset: int) -> set[str]:
        """Keys `m` sets on `var` (`params.boundaries = ...`, `params.put("max", ...)`) or removes from it
        (`params.remove("offset")`) unconditionally before `offset`: at the call's brace depth and not the
        sole statement of an `if`/`else`. What is read under such keys afterwards is not the request's."""
        src = m.src
        out: set[str] = set()
        v = re.escape(var)
        for a in re.finditer(
            rf"(?<![\w.]){v}\s*(?:(?:\.\s*(\w+)|\[\s*['\"](\w+)['\"]\s*\])\s*=(?!=)"
            rf"|\.\s*(?:put|remove)\s*\(\s*['\"](\w+)['\"])",
            src.code[m.body_start : offset],
        ):
            at = m.body_start + a.start()
            # the block holding the assignment must enclose the call: no `}` closes it in between (the call
            # may sit deeper: `params.put("max", ...)` then `if (...) { responseSuccess(list) }`)
            depth = 0
            for c in src.skel[at:offset]:
                depth += {"{": 1, "}": -1}.get(c, 0)
                if depth < 0:
                    break
            if depth < 0:
                continue
            before = src.code[m.body_start : at].rstrip()
            if re.search(r"(?:\bif\s*\(.*\)|\belse)\s*$", before.rsplit("\n", 1)[-1]):
                continue
            out.add(a.group(1) or a.group(2) or a.group(3))
        return out

    def pass_on(
        self,
        m: MethodInfo,
        ctx: ClassInfo,
        pvars: set[str],
        jvars: set[str],
        depth: int,
        skip: frozenset[str] = frozenset(),
    ) -> None:
        """Follows the request parameters (`pvars`: the names they have in `m`) and the JSON body (`jvars`)
        into the methods `m` passes them to, reading them there on the formal parameter that receives them,
        and so on up to MAX_DEPTH calls deep; each (method, formal) is read once (cycle guard)."""
        if depth >= MAX_DEPTH:
            return
        src = m.src
        skel = src.skel[m.body_start : m.body_end]
        for hit in re.finditer(r"(?<![\w.])(?:(\w+)\s*\.\s*)?(\w+)\s*\(", skel):
            recv, name = hit.group(1), hit.group(2)
            if name in KEYWORDS or recv in ("params", "request", "response"):
                continue
            open_ = m.body_start + hit.end() - 1
            close = match_close(src.skel, open_)
            args = [src.code[b:e].strip() for b, e in split_top(src.skel, open_ + 1, close)]
            passed = [(i, "p") for i, a in enumerate(args) if a in pvars]
            passed += [(i, "j") for i, a in enumerate(args) if a in jvars]
            if not passed:
                continue
            inner = skip | {k for var in pvars for k in self.assigned_before(m, var, m.body_start + hit.start())}
            target = self.index.receiver(ctx if recv in (None, "this") else m.cls, recv)
            if target is None:
                continue
            for callee in self.index.overloads(target, name):
                if not callee.accepts(len(args)) or callee.cls.name == "RestController":
                    continue
                if callee.cls.name.endswith("Controller"):
                    # same-class controller methods: `walk` reads `params` there; only another formal name here
                    origin = "handler" if callee.cls is self.action.cls else f"callee:{callee.cls.name}.{callee.name}"
                else:
                    origin = f"service:{callee.cls.name}.{callee.name}"
                for i, kind in passed:
                    formal = callee.params[i]
                    key = (callee.cls.name, callee.at, formal, kind, inner)
                    # a (method, formal) reached again by a shorter chain is followed again: the first visit
                    # may have stopped at MAX_DEPTH before what this one can still reach
                    if self.passed.get(key, MAX_DEPTH + 1) <= depth + 1:
                        continue
                    self.passed[key] = depth + 1
                    if kind == "p":
                        if not (callee.cls.name.endswith("Controller") and formal == "params"):
                            self.read_params(callee, formal, origin, inner)
                        self.pass_on(callee, callee.cls, {formal}, set(), depth + 1, inner)
                    else:
                        self.read_json_fields(callee, {formal}, origin)
                        self.pass_on(callee, callee.cls, set(), {formal}, depth + 1)

    def read(self) -> None:
        self.walk(self.action, self.action.cls, "handler")

    def body(self) -> dict[str, Any] | None:
        fields = list(self.body_fields.values())
        json_body: dict[str, Any] | None = None
        if self.body_json:
            json_body = {
                "kind": "json-array" if self.body_array and not fields else "json",
                "type": "JSONArray" if self.body_array and not fields else "JSONObject",
                "required": None,
                "fields_from": "handler reads (the service reads the rest)",
                "fields": fields,
            }
        if self.parts:
            return {"kind": "multipart", "parts": list(self.parts.values()), "json": json_body}
        if self.raw_body and not json_body:
            return {"kind": "raw", "type": "InputStream", "required": None}
        return json_body


# --------------------------------------------------------------------------------------------
# Extraction


def extract(root: Path, label: str = "") -> tuple[list[Operation], dict[str, int]]:
    index = Index(root)
    mappings: list[Mapping] = []
    conf = sorted((root / "grails-app/conf").glob("*UrlMappings.groovy"))
    for conf_file in conf:
        mappings += parse_mappings(load(conf_file, root))
    stats = {"mapping_files": len(conf), "mappings": len(mappings), "pairs": 0, "merged": 0, "unresolved": 0}
    prefix = f"{label}:" if label else ""
    ops: dict[tuple[str, str], Operation] = {}
    explicit: set[tuple[str, str]] = set()
    convention: list[Mapping] = []
    for mp in mappings:
        if mp.controller == "$controller" or "$action" in mp.actions.values():
            convention.append(mp)
            continue
        for act in mp.actions.values():
            explicit.add((mp.controller, act))
    # convention mappings `/$controller/$action?...`: as the inventory, only for the actions of
    # CONVENTION_CONTROLLERS (server ping, command undo/redo), explicitly mapped or not
    expanded: list[Mapping] = []
    for mp in convention:
        if mp.controller != "$controller":
            cls = index.controller(mp.controller)
            if cls is None:
                continue
            for act in index.actions(cls):
                if (mp.controller, act) not in explicit:
                    path = re.sub(r"\$action\??", act, mp.path)
                    expanded.append(Mapping(path, mp.controller, {"ANY": act}, mp.at))
            continue
        if ".$format" not in mp.path or "$id" in mp.path:
            continue  # keep "/$controller/$action?.$format?" (the other form adds an id segment)
        for cname, cls in sorted(index.classes.items()):
            if not cname.endswith("Controller") or cname == "RestController" or "/services/" in cls.src.rel:
                continue
            ctrl = cname[0].lower() + cname[1:-10]
            if ctrl not in CONVENTION_CONTROLLERS:
                continue
            for act in index.actions(cls):
                for path in (f"/{ctrl}/{act}", f"/{ctrl}/{act}.json"):
                    expanded.append(Mapping(path, ctrl, {"ANY": act}, mp.at))
    for mp in mappings + expanded:
        if mp.controller == "$controller" or "$action" in mp.actions.values():
            continue
        path, names, suffix = norm_path(mp.path)
        cls = index.controller(mp.controller)
        for verb, act in mp.actions.items():
            verbs = list(HTTP_METHODS[:2]) if verb == "ANY" else [verb]
            stats["pairs"] += len(verbs)
            method = index.find_method(cls, act) if cls else None
            handler = f"{cls.name if cls else mp.controller + '?'}.{act}"
            query: list[QueryParam] = []
            path_params: list[dict[str, Any]] = []
            body: dict[str, Any] | None = None
            shapes: list[str] = []
            detail: dict[str, Any] = {"mapping": mp.path}
            if suffix:
                detail["suffix"] = suffix
            if verb == "ANY":
                detail["methods"] = "any (convention mapping): GET and POST written"
            if method is None or cls is None:
                stats["unresolved"] += 1
                detail["unresolved"] = "no such controller/action in the sources"
            else:
                always = frozenset(re.findall(r"\$(\w+)(?![\w?])", mp.path))  # `$x?` may be absent
                reader = HandlerReader(index, method, always)
                reader.read()
                # a placeholder is bound into params by the mapping: never a query parameter
                query = [
                    q
                    for q in reader.query.values()
                    if q.name not in names and not (q.name == "format" and re.search(r"\.[\w$]+\??$", mp.path))
                ]
                for q in query:
                    q.at = prefix + q.at
                    if (reader.merges_json or q.name in reader.or_body) and q.location == "query":
                        q.location = "query|body"
                path_params = [{"name": n, "type": reader.types.get(n, "String")} for n in names if n != "format"]
                body = reader.body()
                if body:
                    for f in body.get("fields", []) + (body.get("json") or {}).get("fields", []):
                        f["line"] = prefix + f["line"]
                shapes = [s for s in reader.shapes if s != "unknown"] or (["unknown"] if reader.shapes else ["empty"])
                if shapes == ["empty"] and reader.throws:
                    shapes = ["error"]  # the action only throws (removed features: ForbiddenException)
                detail["exprs"] = [x[:160] for x in (reader.exprs or reader.throws)[:6]]
                handler = f"{method.cls.name}.{method.name}"
            for v in verbs:
                key = (v, path)
                if key in ops:
                    stats["merged"] += 1
                    if prefix + mp.at not in ops[key].sources:
                        ops[key].sources.append(prefix + mp.at)
                    continue
                ops[key] = Operation(
                    method=v,
                    path=path,
                    handler=handler,
                    sources=[prefix + mp.at],
                    query=[QueryParam(**vars(q)) for q in query],
                    path_params=path_params,
                    body=json.loads(json.dumps(body)) if body else None,
                    response=list(shapes),
                    response_detail=detail,
                )
    return sorted(ops.values(), key=lambda o: (o.path, o.method)), stats


def pair_key(op: Operation) -> tuple[str, str]:
    return op.method, re.sub(r"\{[^}]*\}", "{}", op.path)


def union(trees: list[list[Operation]]) -> tuple[list[Operation], int, int]:
    """The first tree's operations, plus those (method, path) pairs only a further tree has; a pair whose
    action is missing from the tree mapping it (`unresolved`: a route left behind when the action was
    removed) is taken from the first further tree that has the action. -> (operations, added, resolved)"""
    out = {pair_key(op): op for op in trees[0]}
    added = resolved = 0
    for ops in trees[1:]:
        for op in ops:
            old = out.get(pair_key(op))
            if old is None:
                out[pair_key(op)] = op
                added += 1
            elif "unresolved" in old.response_detail and "unresolved" not in op.response_detail:
                out[pair_key(op)] = op
                resolved += 1
    return sorted(out.values(), key=lambda o: (o.path, o.method)), added, resolved


def iter_roots(values: list[str]) -> Iterator[tuple[Path, str]]:
    for i, value in enumerate(values):
        root, _, label = value.partition("=")
        yield Path(root).resolve(), label if i else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("roots", nargs="+", help="Grails source roots; the first is primary, further ones ROOT=label")
    parser.add_argument(
        "--source", action="append", default=[], help="'repository @ revision' per root, for the header"
    )
    parser.add_argument("-o", "--output", type=Path, help="TSV to write (default: stdout summary only)")
    args = parser.parse_args(argv)
    trees: list[list[Operation]] = []
    summaries: list[str] = []
    for i, (root, label) in enumerate(iter_roots(args.roots)):
        ops, stats = extract(root, label)
        trees.append(ops)
        name = args.source[i] if i < len(args.source) else str(root)
        summaries.append(
            f"{name}{' (' + label + ')' if label else ''}: {stats['mapping_files']} UrlMappings files, "
            f"{stats['mappings']} mappings, {stats['pairs']} (method, path) pairs, "
            f"{stats['merged']} duplicates merged, "
            f"{stats['unresolved']} unresolved actions -> {len(ops)} operations"
        )
    ops, added, resolved = union(trees)
    summaries.append(
        f"union: {len(ops)} operations ({added} only in a further tree, "
        f"{resolved} whose action only a further tree has)"
    )
    print("\n".join(summaries), file=sys.stderr)
    if args.output:
        header = [
            "generation: grails-legacy",
            *(f"source: {s}" for s in args.source),
            "extracted by tools/extract_grails.py; columns: spec/inventory/sources/README.md",
            *summaries,
        ]
        write_tsv(ops, args.output, header)
    return 0


if __name__ == "__main__":
    sys.exit(main())
