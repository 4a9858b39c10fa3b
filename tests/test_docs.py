"""The documentation site: the generated API reference is complete, and `mkdocs build --strict` passes.

The reference (generator/render_docs.py) must list every operation of the operation table with
its signature and HTTP line, give every model a page, and resolve every path of the spec in the
REST path index. The site is built as `make docs` builds it, into a temporary directory.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import cytomine_sdk_gen.models as gen_models
from cytomine_sdk_gen.operations import OPERATIONS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "generator"))

import render_docs  # noqa: E402
from spec_index import Spec  # noqa: E402


@pytest.fixture(scope="module")
def reference() -> render_docs.Reference:
    return render_docs.build_reference()


@pytest.fixture(scope="module")
def pages(reference: render_docs.Reference) -> dict[str, str]:
    return render_docs.render(reference)


def _anchors(page: str) -> set[str]:
    return set(re.findall(r"^#+ .*\{#([\w-]+)\}$", page, re.MULTILINE))


def test_every_operation_is_listed_with_its_signature_and_http_line(
    reference: render_docs.Reference, pages: dict[str, str]
) -> None:
    listed = [o.op.id for o in reference.operations]
    assert sorted(listed) == sorted(OPERATIONS) and len(listed) == len(set(listed)) == len(OPERATIONS)
    # 654 operations in 75 services when this was written: the table is the authority, this a floor.
    assert len(OPERATIONS) > 600 and len(reference.services) >= 75
    for op in OPERATIONS.values():
        tag = op.id.partition(".")[0]
        page = pages[f"services/{tag}.md"]
        assert op.verb in _anchors(page), op.id
        section = page.split(f"{{#{op.verb}}}", 1)[1].split("\n## ", 1)[0]
        assert f"`{op.method} {op.server}{op.path}`" in section, op.id
        module = importlib.import_module(f"cytomine_sdk_gen.api.{tag}_api")
        method = getattr(getattr(module, f"{render_docs._camel(tag)}Api"), op.verb)
        for name in inspect.signature(method).parameters:
            if name != "self":
                assert re.search(rf"\b{name}\b", section), f"{op.id}: argument {name} not shown"
        for param in op.params:
            assert f"| `{param.name}` |" in section, f"{op.id}: parameter {param.name} not in the table"
        if op.servers and not op.server:
            assert ", ".join(op.servers) in section, op.id


def test_every_model_has_a_page(reference: render_docs.Reference, pages: dict[str, str]) -> None:
    assert set(reference.models) == set(gen_models.__all__)
    for name, model in reference.models.items():
        page = pages[f"models/{model.module}.md"]
        assert page.startswith(f"# `{name}`"), name
        cls = getattr(gen_models, name)
        for field, info in getattr(cls, "model_fields", {}).items():
            assert f"| `{field}` |" in page, f"{name}.{field}"
            if info.alias and info.alias != field:
                assert f"`{info.alias}`" in page, f"{name}.{field}: JSON name {info.alias}"
        assert f"[`{name}`](models/{model.module}.md)" in pages["models.md"], name


def test_every_spec_path_resolves_in_the_rest_index(pages: dict[str, str]) -> None:
    spec = Spec(ROOT / "spec" / "openapi.yaml")
    rows: dict[tuple[str, str], set[str]] = {}
    for m in re.finditer(r"^\| `(?P<path>[^`]+)` \| (?P<method>[A-Z]+) \| \[`[\w.]+`\]\((?P<link>[^)]+)\)",
                         pages["rest-index.md"], re.MULTILINE):
        rows.setdefault((m["method"], m["path"]), set()).add(m["link"])
    paths = set(spec.document["paths"])
    assert paths and len(paths) == len({(op.server, op.path) for op in OPERATIONS.values()})
    for sop in spec.operations():
        servers = sop.raw.get("servers") or sop.path_item.get("servers") or []
        prefix = str(servers[0]["url"]) if servers else ""
        links = rows.get((sop.method, prefix + sop.path))
        assert links, f"{sop.method} {sop.path} is not in the REST index"
        for link in links:
            target, _, anchor = link.partition("#")
            assert target in pages and anchor in _anchors(pages[target]), link
    assert {sop.path for sop in spec.operations()} == paths  # so the loop above resolved every path


def test_links_between_reference_pages_resolve(pages: dict[str, str]) -> None:
    for name, page in pages.items():
        folder = Path(name).parent
        for link in re.findall(r"\]\(([^)#]+\.md)(?:#[\w-]+)?\)", page):
            target = os.path.normpath(folder / link)
            if not target.startswith(".."):
                assert target in pages, f"{name} links to {link}"


def test_the_reference_is_deterministic(pages: dict[str, str]) -> None:
    assert render_docs.render(render_docs.build_reference()) == pages


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    docs, docs_src = tmp_path / "docs", ROOT / "docs"
    # The hand-written pages; the reference is rendered afresh, as `make docs` does.
    shutil.copytree(ROOT / "docs", docs, ignore=lambda folder, _: ["reference"] if Path(folder) == docs_src else [])
    assert render_docs.main(["--out", str(docs / "reference")]) == 0
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        f"INHERIT: {ROOT / 'mkdocs.yml'}\ndocs_dir: {docs}\nsite_dir: {tmp_path / 'site'}\n", encoding="utf-8"
    )
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert "WARNING" not in log, log[-4000:]
    site = tmp_path / "site"
    assert (site / "reference" / "rest-index.html").is_file()
    # Searching a REST path lands on the section of its method.
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    hits = {doc["location"] for doc in index["docs"] if "/api/project/{id}/user.json" in doc["text"]}
    assert "reference/services/project_member.html#list_by_project" in hits
