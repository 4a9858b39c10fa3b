#!/usr/bin/env python3
"""Extract the HTTP operations of a Cytomine Spring core from its Java sources.

Usage (see spec/inventory/sources/README.md for the full recipe)::

    git --git-dir=<mirror> archive <commit> core/src/main common/src/main | tar -x -C /tmp/src2026
    python tools/extract_spring.py /tmp/src2026 --generation 2026 \
        --repository github:cytomine/cytomine --revision <commit> \
        -o spec/inventory/sources/spring-2026.tsv

It walks every `@RestController`/`@Controller` class under the source root and writes one row per
(HTTP method, path) with the handler's query parameters (`@RequestParam`s and the parameters the
handler reads from the request in its body), path variables, request body and response shape,
each with its source file and line. This is a lexical reader, not a Java compiler: what it cannot
see is listed in the README. Standard library only; CI does not run it.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sources_format import Operation, QueryParam, write_tsv  # tools/: run as scripts

MAPPINGS = {
    "GetMapping": ("GET",),
    "PostMapping": ("POST",),
    "PutMapping": ("PUT",),
    "DeleteMapping": ("DELETE",),
    "PatchMapping": ("PATCH",),
    "RequestMapping": (),
}
MODIFIERS = {
    "public",
    "protected",
    "private",
    "static",
    "final",
    "abstract",
    "synchronized",
    "default",
    "native",
    "transient",
    "volatile",
    "strictfp",
}
KEYWORDS = {
    "if",
    "for",
    "while",
    "switch",
    "catch",
    "return",
    "new",
    "synchronized",
    "try",
    "else",
    "do",
    "throw",
    "case",
    "super",
    "this",
}
LIST_TYPES = {
    "List",
    "ArrayList",
    "LinkedList",
    "Collection",
    "Set",
    "HashSet",
    "LinkedHashSet",
    "TreeSet",
    "Iterable",
    "Stream",
}
MAP_TYPES = {"JsonObject", "Map", "HashMap", "LinkedHashMap", "TreeMap", "JSONObject", "JsonNode", "ObjectNode"}
# answer records that are the listing envelope themselves (2026); a List/Page is one only through responseSuccess
ENVELOPE_TYPES = {"CollectionResponse", "PageResponse"}
BINARY_TYPES = {"byte[]", "StreamingResponseBody", "Resource", "InputStreamResource", "ByteArrayResource"}
# Helpers of RestCytomineController that read request parameters themselves.
# name -> [(param, default)]
PAGEABLE_DEFAULTS = {"offset": "0", "max": "0", "sort": "created", "order": "desc", "withImageGroup": "false"}
REQUEST_PARAMS_GETTERS = {
    "getOffset": "offset",
    "getMax": "max",
    "getSort": "sort",
    "getOrder": "order",
    "getWithImageGroup": "withImageGroup",
}
SEARCH_FILTERS = "<field>[<op>]"
# Sources of request parameters a handler may assign to a local variable.
PARAM_SOURCES = {
    "retrieveRequestParam": ("query", {}),
    "retrievePageableParameters": ("query", PAGEABLE_DEFAULTS),
    "mergeQueryParamsAndBodyParams": ("query|body", {}),
    "getParameterMap": ("query", {}),
}
# Base-class command helpers: their answer is a command envelope.
COMMAND_HELPERS = {"add", "update", "delete", "addOne", "addMultiple"}
RESPONSE_SEEN: set[tuple[str, str]] = set()  # recursion guard of HandlerReader.response
STRING_READERS = re.compile(r"^(get\w*|opt\w*|containsKey|isMissing|isNull|isTrue|has\w*|getOrDefault|putIfAbsent)$")


# --------------------------------------------------------------------------------------------
# Lexing


@dataclass
class Source:
    """A Java file with comments blanked (`clean`) and, in `mask`, string contents blanked too.

    Both have the same length and line breaks as the file, so offsets map to lines.
    """

    path: Path
    rel: str
    clean: str
    mask: str
    line_starts: list[int]

    def line(self, offset: int) -> int:
        lo, hi = 0, len(self.line_starts)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.line_starts[mid] <= offset:
                lo = mid + 1
            else:
                hi = mid
        return lo


def lex(text: str) -> tuple[str, str]:
    clean: list[str] = []
    mask: list[str] = []
    i, n = 0, len(text)

    def blank(ch: str) -> str:
        return ch if ch == "\n" else " "

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            seg = "".join(blank(ch) for ch in text[i:j])
            clean.append(seg)
            mask.append(seg)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            seg = "".join(blank(ch) for ch in text[i:j])
            clean.append(seg)
            mask.append(seg)
            i = j
        elif text.startswith('"""', i):
            j = text.find('"""', i + 3)
            j = n if j < 0 else j + 3
            clean.append(text[i:j])
            mask.append('"' + "".join(blank(ch) for ch in text[i + 1 : j - 1]) + '"')
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            clean.append(text[i:j])
            mask.append(c + " " * (j - i - 2) + c if j - i >= 2 else text[i:j])
            i = j
        else:
            clean.append(c)
            mask.append(c)
            i += 1
    return "".join(clean), "".join(mask)


def load_source(path: Path, root: Path) -> Source:
    text = path.read_text(encoding="utf-8", errors="replace")
    clean, mask = lex(text)
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return Source(path, path.relative_to(root).as_posix(), clean, mask, starts)


def match_close(mask: str, start: int) -> int:
    """Offset just after the bracket closing the one at `start` ((, {, [)."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    stack: list[str] = []
    for i in range(start, len(mask)):
        ch = mask[i]
        if ch in pairs:
            stack.append(pairs[ch])
        elif ch in ")}]":
            if stack and stack[-1] == ch:
                stack.pop()
            if not stack:
                return i + 1
    return len(mask)


def split_top(clean: str, mask: str, sep: str = ",") -> list[tuple[str, str, int]]:
    """Split at top-level separators (outside (), {}, [], <>); (clean, mask, offset) parts."""
    parts: list[tuple[str, str, int]] = []
    depth, angle, start = 0, 0, 0
    for i, ch in enumerate(mask):
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == "<":
            angle += 1
        elif ch == ">" and angle and mask[i - 1] != "-":
            angle -= 1
        elif ch == sep and depth == 0 and angle == 0:
            parts.append((clean[start:i], mask[start:i], start))
            start = i + 1
    if clean[start:].strip():
        parts.append((clean[start:], mask[start:], start))
    return parts


# --------------------------------------------------------------------------------------------
# Annotations


@dataclass
class Annotation:
    name: str
    args: dict[str, Any]
    offset: int


STRING_RE = re.compile(r'"((?:[^"\\]|\\.)*)"')


def parse_value(clean: str, mask: str) -> Any:
    text = clean.strip()
    if text.startswith("{"):
        inner_c = clean[clean.index("{") + 1 : clean.rindex("}")]
        inner_m = mask[clean.index("{") + 1 : clean.rindex("}")]
        return [parse_value(c, m) for c, m, _ in split_top(inner_c, inner_m)]
    strings = STRING_RE.findall(text)
    if strings:
        return "".join(strings)  # "a" + "b" concatenations
    if text in ("true", "false"):
        return text == "true"
    return text.rsplit(".", 1)[-1]  # RequestMethod.GET -> GET, constants by simple name


def parse_annotation(src_clean: str, src_mask: str, at: int) -> tuple[Annotation, int]:
    m = re.compile(r"@([\w.]+)\s*").match(src_mask, at)
    assert m is not None
    name = m.group(1).rsplit(".", 1)[-1]
    end = m.end()
    args: dict[str, Any] = {}
    if end < len(src_mask) and src_mask[end] == "(":
        close = match_close(src_mask, end)
        inner_c, inner_m = src_clean[end + 1 : close - 1], src_mask[end + 1 : close - 1]
        for c, mk, _ in split_top(inner_c, inner_m):
            kv = re.match(r"\s*(\w+)\s*=(?!=)", mk)
            if kv:
                args[kv.group(1)] = parse_value(c[kv.end() :], mk[kv.end() :])
            else:
                args["value"] = parse_value(c, mk)
        end = close
    else:
        end = m.start() + 1 + len(m.group(1))
    return Annotation(name, args, at), end


def parse_annotations(clean: str, mask: str, pos: int = 0) -> tuple[list[Annotation], int]:
    """Annotations starting at `pos` (after whitespace); returns them and the offset after."""
    found: list[Annotation] = []
    while True:
        ws = re.compile(r"\s*").match(mask, pos)
        assert ws is not None
        pos = ws.end()
        if pos < len(mask) and mask[pos] == "@" and not mask.startswith("@interface", pos):
            ann, pos = parse_annotation(clean, mask, pos)
            found.append(ann)
        else:
            return found, pos


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------------------------
# Classes and members


@dataclass
class Param:
    annotations: list[Annotation]
    type: str
    name: str


@dataclass
class Method:
    name: str
    return_type: str
    params: list[Param]
    annotations: list[Annotation]
    offset: int  # of the declaration (its first annotation)
    body_start: int  # offset of "{" (or -1)
    body_end: int


@dataclass
class ClassInfo:
    name: str
    kind: str  # class | interface | record | enum
    source: Source
    annotations: list[Annotation]
    superclass: str | None
    interfaces: list[str]
    fields: dict[str, str]
    methods: list[Method]
    components: list[Param]  # record components

    def methods_named(self, name: str) -> list[Method]:
        return [m for m in self.methods if m.name == name]


CLASS_RE = re.compile(r"\b(class|interface|record|enum)\s+(\w+)")


def strip_generics(t: str) -> str:
    """`ResponseEntity<List<X>>` -> `ResponseEntity`."""
    return re.sub(r"<.*>", "", t).strip()


def type_args(t: str) -> list[str]:
    """Top-level type arguments: `Map<String, List<X>>` -> [`String`, `List<X>`]."""
    if "<" not in t:
        return []
    inner = t[t.index("<") + 1 : t.rindex(">")]
    return [c.strip() for c, _, _ in split_top(inner, inner)]


def simple(t: str) -> str:
    """Simple name of a type, generics and package dropped, `? extends X` -> X."""
    t = re.sub(r"^\?\s*(extends|super)\s+", "", t.strip())
    base = strip_generics(t)
    return base.rsplit(".", 1)[-1].strip()


def parse_params(clean: str, mask: str) -> list[Param]:
    params: list[Param] = []
    for c, mk, _ in split_top(clean, mask):
        anns, pos = parse_annotations(c, mk)
        rest = re.sub(r"\bfinal\s+", "", c[pos:]).strip()
        m = re.match(r"(.+?)\s*(\w+)\s*$", rest, re.S)
        if not m:
            continue
        params.append(Param(anns, re.sub(r"\s+", " ", m.group(1)).strip(), m.group(2)))
    return params


def iter_members(src: Source, start: int, end: int) -> Iterator[tuple[list[Annotation], int, int, int, int]]:
    """Members of a class body [start, end): (annotations, decl_offset, header_end, body_start, end).

    body_start is -1 for members ending with ";" (fields, abstract methods).
    """
    clean, mask = src.clean, src.mask
    pos = start
    while pos < end:
        anns, hpos = parse_annotations(clean, mask, pos)
        if hpos >= end:
            return
        decl = anns[0].offset if anns else hpos
        i = hpos
        depth = 0
        while i < end:
            ch = mask[i]
            if ch == "@" and depth == 0 and re.match(r"@\w", mask[i : i + 2]):
                _, i = parse_annotation(clean, mask, i)  # annotation inside a parameter list
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif depth == 0 and ch == ";":
                yield anns, decl, i, -1, i + 1
                pos = i + 1
                break
            elif depth == 0 and ch == "{":
                header = mask[hpos:i]
                close = match_close(mask, i)
                if "=" in re.sub(r"\([^)]*\)", "", header) and not CLASS_RE.search(header):
                    # field initialised with a block (anonymous class, array): run to ";"
                    j = close
                    while j < end and mask[j] != ";":
                        j = match_close(mask, j) if mask[j] in "({[" else j + 1
                    yield anns, decl, i, -1, j + 1
                    pos = j + 1
                else:
                    yield anns, decl, i, i, close
                    pos = close
                break
            i += 1
        else:
            return


def parse_class(src: Source, start: int | None = None, limit: int | None = None) -> list[ClassInfo]:
    """The types of a file (top-level and nested), or of the range [start, limit)."""
    out: list[ClassInfo] = []
    mask = src.mask
    pos = 0 if start is None else start
    limit = len(mask) if limit is None else limit
    if start is None:
        for m in re.finditer(r"^\s*import\s+[^;]+;|^\s*package\s+[^;]+;", mask, re.M):
            pos = m.end()
    while True:
        anns, hpos = parse_annotations(src.clean, mask, pos)
        cm = CLASS_RE.search(mask, hpos, limit)
        if not cm:
            return out
        brace = mask.find("{", cm.end())
        if brace < 0:
            return out
        header_c = src.clean[cm.end() : brace]
        header_m = mask[cm.end() : brace]
        components: list[Param] = []
        if cm.group(1) == "record" and "(" in header_m:
            po = header_m.index("(")
            pc = match_close(header_m, po)
            components = parse_params(header_c[po + 1 : pc - 1], header_m[po + 1 : pc - 1])
            header_c, header_m = header_c[:po] + header_c[pc:], header_m[:po] + header_m[pc:]
        ext = re.search(r"\bextends\s+([\w.<>, ?]+?)(?=\bimplements\b|$)", header_c.strip())
        impl = re.search(r"\bimplements\s+(.+)$", header_c.strip())
        close = match_close(mask, brace)
        info = ClassInfo(
            name=cm.group(2),
            kind=cm.group(1),
            source=src,
            annotations=anns,
            superclass=simple(ext.group(1)) if ext and cm.group(1) == "class" else None,
            interfaces=[simple(x) for x in (impl.group(1).split(",") if impl else [])]
            + ([simple(x) for x in ext.group(1).split(",")] if ext and cm.group(1) == "interface" else []),
            fields={},
            methods=[],
            components=components,
        )
        for manns, decl, hend, bstart, _end in iter_members(src, brace + 1, close - 1):
            _, hpos2 = parse_annotations(src.clean, mask, decl)
            head_m = mask[hpos2:hend]
            head_c = src.clean[hpos2:hend]
            nested = CLASS_RE.search(head_m)
            if nested and "(" not in head_m[: nested.start()]:
                out.extend(parse_class(src, decl, _end))
                continue
            if "(" in head_m and "=" not in head_m[: head_m.index("(")]:
                po = head_m.index("(")
                pc = match_close(head_m, po)
                before = re.sub(r"\s+", " ", head_c[:po]).strip()
                nm = re.search(r"(\w+)$", before)
                name = nm.group(1) if nm else ""
                if not name or name in KEYWORDS:
                    continue
                words = before[: len(before) - len(name)].strip().split(" ")
                sig = " ".join(w for w in words if w not in MODIFIERS)
                sig = re.sub(r"^<[^>]*(<[^>]*>[^>]*)*>\s*", "", sig)  # method type parameters
                info.methods.append(
                    Method(
                        name=name,
                        return_type=sig.strip(),
                        params=parse_params(head_c[po + 1 : pc - 1], head_m[po + 1 : pc - 1]),
                        annotations=manns,
                        offset=decl,
                        body_start=bstart,
                        body_end=_end,
                    )
                )
            else:
                decl_c = re.sub(r"\s+", " ", head_c.split("=")[0]).strip()
                words = [w for w in decl_c.split(" ") if w not in MODIFIERS]
                if len(words) >= 2 and re.fullmatch(r"\w+", words[-1]):
                    info.fields[words[-1]] = " ".join(words[:-1])
        if start is None:
            out.insert(0, info)  # the file's own type first, its nested types after
        else:
            out.append(info)
        pos = close


class Index:
    """All Java types under a source root, by simple name (parsed lazily)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, list[Path]] = {}
        for path in sorted(root.rglob("*.java")):
            if "/test/" in path.as_posix():
                continue
            self.files.setdefault(path.stem, []).append(path)
        self._sources: dict[Path, Source] = {}
        self._classes: dict[Path, list[ClassInfo]] = {}
        self._nested: dict[str, ClassInfo] = {}

    def source(self, path: Path) -> Source:
        if path not in self._sources:
            self._sources[path] = load_source(path, self.root)
        return self._sources[path]

    def classes_in(self, path: Path) -> list[ClassInfo]:
        if path not in self._classes:
            self._classes[path] = parse_class(self.source(path))
            for info in self._classes[path]:
                self._nested.setdefault(info.name, info)
        return self._classes[path]

    def get(self, name: str) -> ClassInfo | None:
        for path in self.files.get(simple(name), []):
            for info in self.classes_in(path):
                if info.name == simple(name):
                    return info
        return self._nested.get(simple(name))  # a nested type of a file already read

    def hierarchy(self, name: str) -> Iterator[ClassInfo]:
        seen: set[str] = set()
        todo = [simple(name)]
        while todo:
            n = todo.pop(0)
            if n in seen:
                continue
            seen.add(n)
            info = self.get(n)
            if info is None:
                continue
            yield info
            if info.superclass:
                todo.append(info.superclass)
            todo.extend(info.interfaces)

    def field_type(self, cls: str, name: str) -> str | None:
        for info in self.hierarchy(cls):
            if name in info.fields:
                return info.fields[name]
        return None

    def method_returns(self, cls: str, name: str, nargs: int | None = None) -> list[str]:
        found: list[str] = []
        for info in self.hierarchy(cls):
            for m in info.methods_named(name):
                if nargs is None or len(m.params) == nargs or any("..." in p.type for p in m.params):
                    found.append(m.return_type)
            if info.kind == "record" and not found and nargs == 0:
                found += [c.type for c in info.components if c.name == name]
        return found

    def is_subclass(self, name: str, base: str) -> bool:
        return any(info.name == base for info in self.hierarchy(name)) or simple(name) == base


# --------------------------------------------------------------------------------------------
# Handler analysis


def ann(anns: Iterable[Annotation], name: str) -> Annotation | None:
    return next((a for a in anns if a.name == name), None)


def unwrap_optional(t: str) -> tuple[str, bool]:
    if simple(t) == "Optional":
        args = type_args(t)
        return (args[0] if args else "Object"), True
    return t, False


def join_path(prefix: str, path: str) -> str:
    full = "/" + "/".join(p.strip("/") for p in (prefix, path) if p.strip("/"))
    full = re.sub(r"\{(\w+)\s*:[^}]*\}", r"{\1}", full)  # {id:.+} -> {id}
    return re.sub(r"/+", "/", full)


class HandlerReader:
    """Reads one handler method (and the same-class methods it calls)."""

    def __init__(self, index: Index, cls: ClassInfo, method: Method) -> None:
        self.index = index
        self.cls = cls
        self.method = method
        self.src = cls.source
        self.query: list[QueryParam] = []
        self.body_fields: dict[str, dict[str, Any]] = {}
        self.detail: dict[str, Any] = {}

    def at(self, offset: int) -> str:
        return f"{self.src.rel}:{self.src.line(offset)}"

    # -- types ---------------------------------------------------------------------------
    def local_types(self, m: Method) -> dict[str, str]:
        types = {p.name: p.type for p in m.params}
        if m.body_start < 0:
            return types
        body = self.src.clean[m.body_start : m.body_end]
        decl = re.compile(
            r"(?:^|[;{(\s])((?:final\s+)?[A-Z][\w.]*(?:<[\w<>,.? \[\]]*>)?(?:\[\])?)\s+(\w+)\s*(?==|:|;)", re.M
        )
        for d in decl.finditer(body):
            types.setdefault(d.group(2), re.sub(r"^final\s+", "", d.group(1)))
        for d in re.finditer(r"\bvar\s+(\w+)\s*=\s*([^;]+);", body):
            t = self.expr_type(d.group(2), types)
            if t:
                types.setdefault(d.group(1), t)
        return types

    def expr_type(self, expr: str, types: dict[str, str]) -> str | None:
        """Best-effort static type of a Java expression."""
        e = expr.strip()
        while e.startswith("(") and match_close(e, 0) == len(e):
            e = e[1:-1].strip()
        _, emask = lex(e)
        ternary = split_top(e, emask, "?")
        if len(ternary) == 2 and ":" in ternary[1][1]:
            branches = split_top(ternary[1][0], ternary[1][1], ":")
            return self.expr_type(branches[0][0], types) if branches else None
        cast = re.match(r"\(\s*([A-Z][\w<>, ?]*)\s*\)\s*\w", e)
        if cast:
            return cast.group(1)
        if re.fullmatch(r"\w+", e):
            if e in types:
                return types[e]
            return self.index.field_type(self.cls.name, e)
        new = re.match(r"new\s+([\w.]+(?:<[^(]*>)?)\s*\(", e)
        if new:
            return new.group(1)
        if re.match(r"JsonObject\.(of|toJsonObject)\b", e) or re.match(r"Map\.(of|ofEntries)\b", e):
            return "JsonObject"
        if re.match(r"(List|Arrays|Collections)\.\w+\(", e) and not re.match(r"Collections\.(max|min)", e):
            return "List<Object>"
        if e.startswith('"'):
            return "String"
        # a call chain: receiver.method(args)[.method(args)...]
        chain = self.split_chain(e)
        if not chain:
            return None
        head = chain[0]
        cur: str | None
        m0 = re.fullmatch(r"(\w+)\s*(\(.*\))?", head, re.S)
        if not m0:
            return None
        if m0.group(2) is not None:  # a method of this class (or of its base)
            nargs = self.count_args(m0.group(2))
            rets = self.index.method_returns(self.cls.name, m0.group(1), nargs)
            cur = rets[0] if rets else None
        elif m0.group(1) in types:
            cur = types[m0.group(1)]
        else:
            cur = self.index.field_type(self.cls.name, m0.group(1)) or (
                m0.group(1) if m0.group(1)[:1].isupper() else None
            )
        for link in chain[1:]:
            if cur is None:
                return None
            mc = re.fullmatch(r"(\w+)\s*(\(.*\))?", link, re.S)
            if not mc:
                return None
            name, args = mc.group(1), mc.group(2)
            base = simple(cur)
            targs = type_args(cur)
            if base == "Optional" and name in ("orElseThrow", "get", "orElse", "orElseGet") and targs:
                cur = targs[0]
                continue
            if base in ("Optional", "Stream") and name in ("map", "flatMap", "filter", "collect", "toList"):
                if name in ("collect", "toList") and base == "Stream":
                    cur = "List<Object>"
                continue
            if base in LIST_TYPES and name == "stream":
                cur = "Stream<%s>" % (targs[0] if targs else "Object")
                continue
            if base in LIST_TYPES and name == "get" and targs:
                cur = targs[0]
                continue
            if args is None:
                ft = self.index.field_type(base, name)
                cur = ft
                continue
            rets = self.index.method_returns(base, name, self.count_args(args))
            if not rets and base in MAP_TYPES and name in ("get", "getJSONAttrStr"):
                return "Object"
            if not rets and self.count_args(args) == 0 and re.match(r"(get|is)[A-Z]", name):
                prop = re.sub(r"^(get|is)", "", name)
                ft = self.index.field_type(base, prop[:1].lower() + prop[1:])
                rets = [ft] if ft else []
            if not rets:
                rets = self.repository_returns(base, name)
            cur = self.resolve_generic(rets[0], cur) if rets else None
        return cur

    def repository_returns(self, cls: str, name: str) -> list[str]:
        """Spring Data derived queries of a repository interface (`JpaRepository<E, ID>`)."""
        entity = None
        for info in self.index.hierarchy(cls):
            head = info.source.clean[: info.source.clean.find("{")]
            m = re.search(r"\b(?:Jpa|Crud|PagingAndSorting|ListCrud)Repository<\s*(\w+)", head)
            if m:
                entity = m.group(1)
                break
        if entity is None:
            return []
        if re.match(r"(findAll|findAllBy|findBy\w*In)$|findAll", name):
            return [f"List<{entity}>"]
        if re.match(r"(find|get|read)(One)?By|findById", name):
            return [f"Optional<{entity}>"]
        if name.startswith("count"):
            return ["Long"]
        if name.startswith("save"):
            return [entity]
        return []

    def resolve_generic(self, ret: str, owner: str) -> str:
        """Replace a lone type variable (`T`) with the owner's first type argument."""
        if re.fullmatch(r"[A-Z]", ret.strip()):
            args = type_args(owner)
            return args[0] if args else "Object"
        return ret

    @staticmethod
    def count_args(args: str) -> int:
        inner = args.strip()[1:-1]
        if not inner.strip():
            return 0
        _, mask = lex(inner)
        return len(split_top(inner, mask))

    @staticmethod
    def split_chain(e: str) -> list[str]:
        _, mask = lex(e)
        parts: list[str] = []
        start, i = 0, 0
        while i < len(mask):
            ch = mask[i]
            if ch in "({[":
                i = match_close(mask, i)
                continue
            if ch == "." and not mask[start:i].strip().isdigit():
                parts.append(e[start:i].strip())
                start = i + 1
            elif not (ch.isalnum() or ch in "_ \n\t<>?,"):
                return []
            i += 1
        parts.append(e[start:].strip())
        return [p for p in parts if p]

    # -- query params read in the body --------------------------------------------------
    def add_query(self, q: QueryParam) -> None:
        for old in self.query:
            if old.name == q.name:
                if old.default is None and q.default is not None and old.origin != "annotation":
                    old.default = q.default
                    old.required = False
                return
        self.query.append(q)

    def read_body(self, m: Method, seen: set[str], param_vars: dict[str, tuple[str, dict[str, str]]]) -> None:
        """Collect request parameters read in m's body (and in same-class methods it calls)."""
        if m.body_start < 0:
            return
        src = self.src
        clean = src.clean[m.body_start : m.body_end]
        mask = src.mask[m.body_start : m.body_end]
        base = m.body_start
        types = self.local_types(m)
        sources = dict(param_vars)
        for p in m.params:
            if simple(p.type) == "RequestParams":
                sources[p.name] = ("query", {})
        # variables bound to a request-parameter source
        for d in re.finditer(r"(\w+)\s*=\s*(?:this\.)?(?:(\w+)\.)?(\w+)\(\s*\)", mask):
            helper = d.group(3)
            if helper in PARAM_SOURCES and (d.group(2) in (None, "request", "this") or helper == "getParameterMap"):
                sources[d.group(1)] = PARAM_SOURCES[helper]
        # request.getParameter("x") on the injected request
        for r in re.finditer(r"\b(\w+)\.getParameter(?:Values)?\(\s*\"", mask):
            recv = r.group(1)
            rtype = types.get(recv) or self.index.field_type(self.cls.name, recv) or ""
            if simple(rtype) != "HttpServletRequest":
                continue
            lit = STRING_RE.match(clean, r.end() - 1)
            if lit:
                at = self.at(base + r.start())
                self.add_query(QueryParam(lit.group(1), None, "String", None, "handler", "query", at))
        for var, (location, defaults) in sources.items():
            for r in re.finditer(r"(?<![\w.])" + re.escape(var) + r"\.(\w+)\(\s*", mask):
                call = r.group(1)
                line = self.at(base + r.start())
                if call in REQUEST_PARAMS_GETTERS:
                    name = REQUEST_PARAMS_GETTERS[call]
                    self.add_query(
                        QueryParam(
                            name,
                            False if name in defaults else None,
                            "String",
                            defaults.get(name),
                            "handler",
                            location,
                            line,
                        )
                    )
                    continue
                if STRING_READERS.match(call) and mask[r.end() : r.end() + 1] != '"' and call != "put":
                    for name in self.dynamic_keys(clean, mask, r.end()):
                        self.add_query(QueryParam(name, False, "String", None, "handler", location, line))
                    continue
                if not STRING_READERS.match(call):
                    continue
                lit = STRING_RE.match(clean, r.end())
                if not lit:
                    continue
                name = lit.group(1)
                close = match_close(mask, r.end() - 1 - (len(mask[: r.end()]) - len(mask[: r.end()].rstrip())))
                args_c = clean[r.end() - 1 : close]
                nargs = self.count_args(args_c) if args_c.startswith("(") else 1
                required: bool | None = None
                default = defaults.get(name)
                rest = args_c[1 + lit.end() - r.end() :].strip().lstrip(",").strip().rstrip(")").strip()
                if call in ("put",):
                    continue
                if call == "putIfAbsent" or call == "getOrDefault" or (call.startswith("getJSONAttr") and nargs >= 2):
                    if rest in ("true", "false") and call.startswith("getJSONAttr") and nargs == 2:
                        required = rest == "true"
                    else:
                        required = False
                        default = rest.rsplit(",", 1)[-1].strip().strip('"') if rest else default
                if default is not None and required is None:
                    required = False
                jtype = {
                    "getJSONAttrLong": "Long",
                    "getJSONAttrInteger": "Integer",
                    "getJSONAttrDouble": "Double",
                    "getJSONAttrBoolean": "Boolean",
                    "getJSONAttrListLong": "List<Long>",
                    "getJSONAttrDate": "Date",
                    "isTrue": "Boolean",
                }.get(call, "String")
                self.add_query(QueryParam(name, required, jtype, default, "handler", location, line))
        # handlers of other controllers this one delegates to (`restUserAnnotationController.show(id)`)
        # and methods of other classes (services, builders) given a parameter-source variable
        for d in re.finditer(r"(?<![\w.])(\w+)\.(\w+)\s*\(", mask):
            recv, name = d.group(1), d.group(2)
            if recv in sources or len(seen) > 60:
                continue
            ftype = types.get(recv) or self.index.field_type(self.cls.name, recv)
            other = self.index.get(ftype) if ftype else None
            if other is None:
                continue
            close = match_close(mask, d.end() - 1)
            args = [a.strip() for a, _, _ in split_top(clean[d.end() : close - 1], mask[d.end() : close - 1])]
            is_controller = other.name.endswith("Controller")
            inline = {a: PARAM_SOURCES[a[:-2]] for a in args if a.endswith("()") and a[:-2] in PARAM_SOURCES}
            if not is_controller and not any(a in sources or a in inline for a in args):
                continue
            key = f"{other.name}.{name}/{len(args)}"
            if key in seen:
                continue
            seen.add(key)
            for klass in self.index.hierarchy(other.name):
                for callee in klass.methods_named(name):
                    if len(callee.params) != len(args) or callee.body_start < 0:
                        continue
                    passed = {
                        cp.name: sources.get(a) or inline[a]
                        for a, cp in zip(args, callee.params, strict=False)
                        if a in sources or a in inline
                    }
                    sub = HandlerReader(self.index, klass, callee)
                    sub.read_body(callee, seen, passed)
                    for q in sub.query:
                        if not is_controller and q.origin == "handler":
                            q.origin = f"callee:{klass.name}.{callee.name}"
                        self.add_query(q)
        # helpers of the base controller that read parameters themselves
        for h in re.finditer(r"(?<![\w.])(?:this\.|super\.)?(\w+)\s*\(", mask):
            name = h.group(1)
            line = self.at(base + h.start())
            close = match_close(mask, h.end() - 1)
            call_args = [a.strip() for a, _, _ in split_top(clean[h.end() : close - 1], mask[h.end() : close - 1])]
            if name == "retrievePageable":
                for pname in ("offset", "max", "sort", "order"):
                    self.add_query(
                        QueryParam(
                            pname, False, "String", PAGEABLE_DEFAULTS[pname], "helper:retrievePageable", "query", line
                        )
                    )
            elif name == "retrieveSearchParameters":
                self.add_query(
                    QueryParam(SEARCH_FILTERS, False, "String", None, "helper:retrieveSearchParameters", "query", line)
                )
            elif name == "responseSuccess" and call_args:
                # responseSuccess(list[, isFilterRequired]) pages the list with offset/max itself
                first = self.expr_type(call_args[0], types)
                listish = first is not None and (simple(first) in LIST_TYPES or simple(first) == "Page")
                second = self.expr_type(call_args[1], types) if len(call_args) == 2 else None
                if listish and (len(call_args) == 1 or (len(call_args) == 2 and simple(second or "") != "Map")):
                    for pname in ("offset", "max"):
                        self.add_query(
                            QueryParam(pname, False, "String", "0", "helper:responseSuccess(list)", "query", line)
                        )
            elif f"{self.cls.name}.{name}/{len(call_args)}" not in seen and name not in KEYWORDS:
                seen.add(f"{self.cls.name}.{name}/{len(call_args)}")
                for callee in [c for c in self.cls.methods if c.name == name and len(c.params) == len(call_args)]:
                    # pass on parameter-source variables given as arguments
                    given = {
                        cp.name: sources[a] for a, cp in zip(call_args, callee.params, strict=False) if a in sources
                    }
                    self.read_body(callee, seen, given)

    def dynamic_keys(self, clean: str, mask: str, at: int) -> list[str]:
        """Keys read as `params.get(entry.getKey()...)` while looping over a constant map.

        `for (Map.Entry<..> entry : NAMES.entrySet()) params.getJSONAttrBoolean(entry.getKey(), ..)`
        reads every key of `NAMES = Map.of("k1", "v1", ...)` (`.replaceAll("a", "b")` applied).
        """
        close = match_close(mask, at - 1) if at and mask[at - 1] == "(" else at
        arg = clean[at : close - 1]
        km = re.match(r"\s*(\w+)\.getKey\(\)", arg)
        if not km:
            return []
        loop = None
        for lm in re.finditer(r"for\s*\([^:;]*\b" + km.group(1) + r"\s*:\s*(\w+)\.entrySet\(\)", mask[:at]):
            loop = lm
        if loop is None:
            return []
        init = re.search(r"\b" + loop.group(1) + r"\s*=\s*Map\.of\(", self.src.mask)
        if init is None:
            return []
        end = match_close(self.src.mask, init.end() - 1)
        literals = STRING_RE.findall(self.src.clean[init.end() : end])
        keys = literals[0::2]
        rp = re.search(r'\.replaceAll\(\s*"([^"]*)"\s*,\s*"([^"]*)"\s*\)', arg)
        if rp:
            keys = [re.sub(rp.group(1), rp.group(2), k) for k in keys]
        return keys

    # -- body ------------------------------------------------------------------------------
    def body_reads(self, m: Method, var: str, seen: set[str]) -> None:
        if m.body_start < 0:
            return
        clean = self.src.clean[m.body_start : m.body_end]
        mask = self.src.mask[m.body_start : m.body_end]
        names = {var}
        alias = r"(\w+)\s*=\s*(?:JsonObject\.toJsonObject|new JsonObject|JsonObject\.toMap)\(\s*"
        for al in re.finditer(alias + re.escape(var) + r"\s*\)", mask):
            names.add(al.group(1))
        for v in names:
            for r in re.finditer(r"(?<![\w.])" + re.escape(v) + r"\.(\w+)\(\s*\"", mask):
                call = r.group(1)
                if call in ("put", "remove") or not STRING_READERS.match(call):
                    continue
                lit = STRING_RE.match(clean, r.end() - 1)
                if not lit:
                    continue
                close = match_close(mask, mask.index("(", r.start()))
                args_c = clean[mask.index("(", r.start()) : close]
                rest = args_c[args_c.index(lit.group(0)) + len(lit.group(0)) :].strip().lstrip(",").rstrip(")").strip()
                required: bool | None = None
                if call.startswith("getJSONAttr") and rest:
                    flag = rest.split(",")[0].strip()
                    required = flag == "true" if flag in ("true", "false") else False
                elif call in ("getOrDefault", "containsKey", "isMissing", "isNull", "has", "opt"):
                    required = False
                fieldname = lit.group(1)
                line = self.src.line(m.body_start + r.start())
                old = self.body_fields.get(fieldname)
                if old is None or (old["required"] is None and required is not None):
                    self.body_fields[fieldname] = {"name": fieldname, "required": required, "read": call, "line": line}
        for h in re.finditer(r"(?<![\w.])(\w+)\s*\(", mask):
            name = h.group(1)
            if name in seen or name in KEYWORDS:
                continue
            close = match_close(mask, h.end() - 1)
            passed_args = [a.strip() for a, _, _ in split_top(clean[h.end() : close - 1], mask[h.end() : close - 1])]
            for callee in (c for c in self.cls.methods if c.name == name and not mapping_of(c)):
                for a, p in zip(passed_args, callee.params, strict=False):
                    if a in names:
                        seen.add(name)
                        self.body_reads(callee, p.name, seen)

    def dto_fields(self, t: str) -> list[dict[str, Any]] | None:
        info = self.index.get(t)
        if info is None:
            return None
        if info.kind == "record":
            out = []
            for c in info.components:
                ctype, optional = unwrap_optional(c.type)
                notnull = any(a.name in ("NotNull", "NotBlank", "NotEmpty") for a in c.annotations)
                out.append({"name": c.name, "type": ctype, "required": notnull or (not optional and None)})
            return out
        if info.kind == "class" and not self.index.is_subclass(t, "CytomineDomain"):
            out = []
            for fname, ftype in info.fields.items():
                if "static" in ftype:
                    continue
                ctype, optional = unwrap_optional(ftype)
                out.append({"name": fname, "type": ctype, "required": False if optional else None})
            return out
        return None

    # -- response -------------------------------------------------------------------------
    def classify_value(self, t: str | None, paged: bool = False) -> str:
        """Shape of a value of Java type `t` serialised as the answer.

        `paged`: the value goes through `responseSuccess(List|Page)`, which wraps it in the
        `collection`/`offset`/`perPage`/`size`/`totalPages` envelope. Anywhere else (Jackson via
        `ResponseEntity.ok(...)`, `.body(...)`, a plain return) a collection is a bare JSON array and
        a Spring `Page` Jackson's own `{content, pageable, ...}` object; only the 2026
        `CollectionResponse`/`PageResponse` records are envelopes by themselves.
        """
        if t is None:
            return "unknown"
        base = simple(t)
        args = type_args(t)
        elem = simple(args[0]) if args else "Object"
        if base in ENVELOPE_TYPES or (paged and (base == "Page" or base in LIST_TYPES)):
            return f"list:{elem}"
        if base in LIST_TYPES:
            return f"array:{elem}"
        if base in ("CommandResponse", "HttpCommandResponse"):
            return "message"
        if base in MAP_TYPES:
            return "other"
        if base == "String":
            return "string"
        if base == "Optional":
            return self.classify_value(args[0] if args else None, paged)
        return f"object:{base}"

    def classify_declared(self, t: str) -> str | None:
        """Shape from the declared return type when it is not a String ResponseEntity."""
        base = simple(t)
        args = type_args(t)
        if base == "ResponseEntity" or base == "JsonResponseEntity":
            if not args or simple(args[0]) in ("String", "?", "Object"):
                return None
            t, base, args = args[0], simple(args[0]), type_args(args[0])
            if base == "Void":
                return "empty"
        if t.replace(" ", "") in BINARY_TYPES or base in BINARY_TYPES:
            return "binary"
        if base in ("void", "Void"):
            return None
        if base == "String":
            return "string"
        if base == "Optional":
            return self.classify_value(args[0] if args else None)
        return self.classify_value(t)

    def response(self, m: Method) -> list[str]:
        shapes: list[str] = []
        declared = self.classify_declared(m.return_type)
        self.detail["returns"] = m.return_type
        if declared:
            return [declared]
        rtype = simple(m.return_type)
        clean = self.src.clean[m.body_start : m.body_end] if m.body_start >= 0 else ""
        mask = self.src.mask[m.body_start : m.body_end] if m.body_start >= 0 else ""
        types = self.local_types(m)
        if rtype == "void":
            if re.search(r"\bresponse(Report)?File\(|responseImage|responseByteArray|getOutputStream\(", mask):
                return ["binary"]
            if re.search(r"getWriter\(|responseString\(", mask):
                return ["string"]
            delegated: list[str] = []
            for d in re.finditer(r"(?<![\w.])(\w+)\.(\w+)\s*\(", mask):
                ftype = self.index.field_type(self.cls.name, d.group(1))
                other = self.index.get(ftype) if ftype and ftype.endswith("Controller") else None
                for callee in other.methods_named(d.group(2)) if other else []:
                    if callee.body_start >= 0 and (other.name, callee.name) not in RESPONSE_SEEN:  # type: ignore[union-attr]
                        delegated += HandlerReader(self.index, other, callee).response(callee)  # type: ignore[arg-type]
            return sorted(set(delegated)) or ["empty"]
        exprs: list[str] = []
        for r in re.finditer(r"\breturn\b", mask):
            end = r.end()
            depth = 0
            while end < len(mask):
                ch = mask[end]
                if ch in "({[":
                    end = match_close(mask, end)
                    continue
                if ch == ";" and depth == 0:
                    break
                end += 1
            exprs.append(clean[r.end() : end].strip())
        self.detail["return_exprs"] = [re.sub(r"\s+", " ", e)[:160] for e in exprs]
        for e in exprs:
            shapes += self.shape_of(e, types, m)
        if not shapes and rtype in ("String",):
            shapes.append("string")
        out: list[str] = []
        for s in shapes:
            if s not in out:
                out.append(s)
        if len(out) > 1 and "unknown" in out:
            out.remove("unknown")
        return out

    def shape_of(self, e: str, types: dict[str, str], m: Method) -> list[str]:
        e = e.strip()
        _, mask = lex(e)
        found: list[str] = []
        # responseSuccess(...) anywhere in the expression (lambdas included)
        for r in re.finditer(r"(?<![\w.])responseSuccess\s*\(", mask):
            close = match_close(mask, r.end() - 1)
            args = split_top(e[r.end() : close - 1], mask[r.end() : close - 1])
            if not args:
                continue
            arg = args[0][0].strip()
            lam = re.search(r"\.(?:map|ifPresent)\(\s*\(?(\w+)\)?\s*->\s*$", e[: r.start()])
            if lam and arg == lam.group(1):
                recv = e[: lam.start()]
                rt = self.expr_type(recv, types)
                targs = type_args(rt) if rt else []
                found.append(self.classify_value(targs[0] if targs else None, paged=True))
            else:
                wrapped = re.fullmatch(r"(?:JsonObject\.toJsonString|convertObjectToJSON)\((.*)\)", arg, re.S)
                if wrapped:  # a JSON string made here: responseSuccess(String), no envelope around a list
                    found.append(self.classify_value(self.expr_type(wrapped.group(1), types)))
                else:
                    found.append(self.classify_value(self.expr_type(arg, types), paged=True))
        if found:
            return found
        if re.fullmatch(r"\w+", e) and simple(types.get(e, "")) in ("ResponseEntity", "JsonResponseEntity"):
            body_c = self.src.clean[m.body_start : m.body_end]
            body_m = self.src.mask[m.body_start : m.body_end]
            for a in re.finditer(r"(?<![\w.])" + re.escape(e.strip()) + r"\s*=(?!=)", body_m):
                end = a.end()
                while end < len(body_m) and body_m[end] != ";":
                    end = match_close(body_m, end) if body_m[end] in "({[" else end + 1
                found += self.shape_of(body_c[a.end() : end], types, m)
            return found or ["unknown"]
        ok = re.match(r"(?:Json)?ResponseEntity\.(?:ok|accepted)\(\s*(.+)\)\s*$", e, re.S)
        if ok:
            inner = ok.group(1)
            for suffix in (".toJsonString()", ".toJSON(urlApi)", ".toJSON()"):
                if inner.strip().endswith(suffix):
                    inner = inner.strip()[: -len(suffix)]
            return [self.classify_value(self.expr_type(inner, types))]
        delegate = re.match(r"(\w+)\.(\w+)\s*\(", e)
        if delegate:
            ftype = self.index.field_type(self.cls.name, delegate.group(1))
            other = self.index.get(ftype) if ftype else None
            if other is not None and (ann(other.annotations, "RestController") or ann(other.annotations, "Controller")):
                for callee in other.methods_named(delegate.group(2)):
                    if callee.body_start >= 0 and (other.name, callee.name) not in RESPONSE_SEEN:
                        RESPONSE_SEEN.add((other.name, callee.name))
                        try:
                            return HandlerReader(self.index, other, callee).response(callee)
                        finally:
                            RESPONSE_SEEN.discard((other.name, callee.name))
        call = re.match(r"(?:this\.)?(\w+)\s*\(", e)
        if call:
            nargs = self.count_args(e[call.end() - 1 : match_close(mask, call.end() - 1)])
            for callee in self.cls.methods:
                if (
                    callee.name == call.group(1)
                    and callee is not m
                    and len(callee.params) == nargs
                    and (self.cls.name, callee.name) not in RESPONSE_SEEN
                ):
                    RESPONSE_SEEN.add((self.cls.name, callee.name))
                    try:
                        return self.response(callee)
                    finally:
                        RESPONSE_SEEN.discard((self.cls.name, callee.name))
        if call and call.group(1) in COMMAND_HELPERS:
            return ["message"]
        if call and call.group(1) == "responseNotFound":
            return []
        if call and call.group(1) in ("buildJson",):
            return ["other"]
        if call and call.group(1) == "buildReportResponse":
            return ["binary"]
        if call:
            # a same-class helper returning ResponseEntity: look at its returns
            for callee in self.cls.methods:
                key = (self.cls.name, callee.name)
                if callee.name == call.group(1) and callee is not m and key not in RESPONSE_SEEN:
                    RESPONSE_SEEN.add((self.cls.name, callee.name))
                    try:
                        return self.response(callee)
                    finally:
                        RESPONSE_SEEN.discard((self.cls.name, callee.name))
        body = re.search(r"\.body\(\s*(.*)\)\s*$", e, re.S)
        if body:
            t = self.expr_type(body.group(1), types)
            if t and simple(t) == "String" and "toJsonString" not in body.group(1) and "JSON" not in body.group(1):
                return ["string"]
            inner = body.group(1)
            for suffix in (".toJsonString()", ".toJSON()", ".toString()"):
                if inner.strip().endswith(suffix):
                    inner = inner.strip()[: -len(suffix)]
            return [self.classify_value(self.expr_type(inner, types))]
        t = self.expr_type(e, types)
        if t:
            declared = self.classify_declared(t)
            if simple(t) in ("ResponseEntity", "JsonResponseEntity"):
                # a service answering a ResponseEntity<String>: JSON relayed from another server
                return [declared] if declared else ["passthrough"]
            if declared:
                return [declared]
        return ["unknown"]

    # -- everything -------------------------------------------------------------------------
    def read(self) -> tuple[list[QueryParam], list[dict[str, Any]], dict[str, Any] | None, list[str]]:
        m = self.method
        path_params: list[dict[str, Any]] = []
        body: dict[str, Any] | None = None
        parts: list[dict[str, Any]] = []
        map_params: dict[str, tuple[str, dict[str, str]]] = {}
        decl_line = self.at(m.offset)
        for p in m.params:
            rp = ann(p.annotations, "RequestParam")
            pv = ann(p.annotations, "PathVariable")
            rb = ann(p.annotations, "RequestBody")
            rpart = ann(p.annotations, "RequestPart")
            ptype, optional = unwrap_optional(p.type)
            if pv:
                path_params.append({"name": pv.args.get("value") or pv.args.get("name") or p.name, "type": ptype})
            elif rp or rpart:
                a = rp or rpart
                assert a is not None
                name = str(a.args.get("value") or a.args.get("name") or "")
                default = a.args.get("defaultValue")
                req = a.args.get("required", True)
                required = bool(req) and default is None and not optional
                if "MultipartFile" in ptype or rpart:
                    parts.append({"name": name or p.name, "type": ptype, "required": required})
                elif simple(ptype) in ("Map", "MultiValueMap") and not name:
                    map_params[p.name] = ("query", {})
                else:
                    self.add_query(
                        QueryParam(
                            name or p.name,
                            required,
                            ptype,
                            None if default is None else str(default),
                            "annotation",
                            "query",
                            decl_line,
                        )
                    )
            elif rb:
                required = bool(rb.args.get("required", True)) and not optional
                body = {"kind": "json", "type": ptype, "required": required, "var": p.name}
            elif simple(ptype) == "Pageable":
                for q in ("page", "size", "sort"):
                    self.add_query(QueryParam(q, False, "Pageable", None, "annotation:Pageable", "query", decl_line))
            elif simple(ptype) == "MultipartFile":
                parts.append({"name": p.name, "type": ptype, "required": False})
        before = len(self.query)
        self.read_body(m, {f"{self.cls.name}.{m.name}/{len(m.params)}"}, map_params)
        if map_params and len(self.query) == before:
            self.add_query(QueryParam("*", False, "Map", None, "annotation", "query", decl_line))
        if body is not None:
            btype = simple(body["type"])
            fields: list[dict[str, Any]] | None = None
            if btype in ("JsonObject", "String", "Map", "JSONObject", "JsonNode", "Object") or btype in LIST_TYPES:
                self.body_reads(m, body.pop("var"), {m.name})
                fields = list(self.body_fields.values())
                body["fields_from"] = "handler reads (the service reads the rest)"
                if btype in LIST_TYPES:
                    body["kind"] = "json-array"
            else:
                body.pop("var")
                fields = self.dto_fields(btype)
                body["fields_from"] = f"class {btype}" if fields is not None else "unknown"
            body["fields"] = fields or []
        if parts:
            body = {"kind": "multipart", "parts": parts, **({"json": body} if body else {})}
        shapes = self.response(m)
        return self.query, path_params, body, shapes


def mapping_of(m: Method) -> Annotation | None:
    return next((a for a in m.annotations if a.name in MAPPINGS), None)


def http_methods(a: Annotation) -> list[str]:
    fixed = MAPPINGS[a.name]
    if fixed:
        return list(fixed)
    methods = [str(x) for x in as_list(a.args.get("method"))]
    return methods or ["ANY"]


def mapping_paths(a: Annotation | None) -> list[str]:
    if a is None:
        return [""]
    paths = [str(p) for p in as_list(a.args.get("value")) + as_list(a.args.get("path"))]
    return paths or [""]


def extract(root: Path) -> tuple[list[Operation], dict[str, int]]:
    index = Index(root)
    ops: dict[tuple[str, str], Operation] = {}
    stats = {"controller_files": 0, "controller_classes": 0, "handlers": 0, "pairs": 0, "merged": 0}
    for paths in index.files.values():
        for path in paths:
            text = index.source(path).mask
            if not re.search(r"@(Rest)?Controller\b", text):
                continue
            stats["controller_files"] += 1
            for cls in index.classes_in(path):
                if not ann(cls.annotations, "RestController") and not ann(cls.annotations, "Controller"):
                    continue
                stats["controller_classes"] += 1
                prefixes = mapping_paths(ann(cls.annotations, "RequestMapping"))
                for method in cls.methods:
                    mapping = mapping_of(method)
                    if mapping is None:
                        continue
                    stats["handlers"] += 1
                    reader = HandlerReader(index, cls, method)
                    query, path_params, body, shapes = reader.read()
                    consumes = as_list(mapping.args.get("consumes"))
                    produces = as_list(mapping.args.get("produces"))
                    detail = dict(reader.detail)
                    if consumes:
                        detail["consumes"] = consumes
                    if produces:
                        detail["produces"] = produces
                    line = cls.source.line(mapping.offset)
                    where = f"{cls.source.rel}:{line}"
                    for prefix in prefixes:
                        for sub in mapping_paths(mapping):
                            full = join_path(prefix, sub)
                            for verb in http_methods(mapping):
                                stats["pairs"] += 1
                                key = (verb, full)
                                if key in ops:
                                    stats["merged"] += 1
                                    merge(ops[key], query, body, shapes, where, f"{cls.name}.{method.name}")
                                    continue
                                ops[key] = Operation(
                                    method=verb,
                                    path=full,
                                    handler=f"{cls.name}.{method.name}",
                                    sources=[where],
                                    query=[QueryParam(**vars(q)) for q in query],
                                    path_params=[pp for pp in path_params if "{" + str(pp["name"]) + "}" in full],
                                    body=body,
                                    response=list(shapes),
                                    response_detail=detail,
                                )
    return sorted(ops.values(), key=lambda o: (o.path, o.method)), stats


def merge(
    op: Operation, query: list[QueryParam], body: dict[str, Any] | None, shapes: list[str], where: str, handler: str
) -> None:
    """Two handlers on one (method, path) (e.g. JSON vs multipart `consumes`): union of both."""
    op.sources.append(where)
    op.handler += "+" + handler
    names = {q.name: q for q in op.query}
    for q in query:
        if q.name in names:
            old = names[q.name]
            old.required = bool(old.required and q.required) if None not in (old.required, q.required) else None
        else:
            q2 = QueryParam(**vars(q))
            q2.required = False  # only one of the handlers needs it
            op.query.append(q2)
    for old in op.query:
        if old.name not in {q.name for q in query}:
            old.required = False
    if body and op.body and body != op.body:
        op.body = {"kind": "alternatives", "options": [op.body, body]}
    elif body and not op.body:
        op.body = body
    for s in shapes:
        if s not in op.response:
            op.response.append(s)




def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("root", type=Path, help="source root (paths in the output are relative to it)")
    parser.add_argument("--generation", required=True, help="generation name, e.g. 2026")
    parser.add_argument("--repository", default="", help="where the sources come from, for the header")
    parser.add_argument("--revision", default="", help="commit id of the sources, for the header")
    parser.add_argument("-o", "--output", type=Path, help="TSV to write (default: stdout summary only)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    ops, stats = extract(root)
    summary = (
        f"{stats['controller_classes']} controller classes in {stats['controller_files']} files, "
        f"{stats['handlers']} handler methods, {stats['pairs']} (method, path) mappings, "
        f"{stats['merged']} merged duplicates -> {len(ops)} operations"
    )
    print(summary, file=sys.stderr)
    if args.output:
        header = [
            f"generation: spring-{args.generation}",
            f"source: {args.repository} @ {args.revision}",
            "extracted by tools/extract_spring.py; columns: spec/inventory/sources/README.md",
            summary,
        ]
        write_tsv(ops, args.output, header)
    return 0


if __name__ == "__main__":
    sys.exit(main())
