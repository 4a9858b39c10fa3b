"""The testing kit from the outside: the worked example of docs/guide/testing.md, copied as a user
would, passes on all three generations in a venv outside the repository with the built wheel.

The wheel is built from the source tree (`pip wheel --no-build-isolation`, no download) and
installed with `--no-deps` into a new venv outside the repository; the SDK's dependencies and
pytest are taken from this environment's site-packages, appended to the new venv's path by a
.pth file (so nothing is downloaded), after the venv's own site-packages: cytomine_sdk and its
pytest plugin come from the wheel, not from the editable install (checked). With
CYTOMINE_WHEEL_TEST_INDEX=1 the dependencies are installed from the package index instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.doc_blocks import ROOT, readme_blocks

PAGE = ROOT / "docs" / "guide" / "testing.md"
MARKER = "file: test_export_project.py"


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def outside() -> Iterator[Path]:
    """A temporary directory that is not below the repository (removed afterwards)."""
    folder = Path(tempfile.mkdtemp(prefix="cytomine-kit-"))
    assert ROOT not in folder.parents
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_docs_example_passes_with_the_wheel_in_a_fresh_venv(outside: Path) -> None:
    (block,) = [b for b in readme_blocks(PAGE) if b.marker == MARKER]

    wheels = outside / "wheels"
    built = run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                 "-w", str(wheels), str(ROOT)], cwd=outside)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("cytomine_sdk-*.whl")

    venv = outside / "venv"
    created = run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=outside)
    assert created.returncode == 0, created.stderr
    python = venv / "bin" / "python"
    from_index = os.environ.get("CYTOMINE_WHEEL_TEST_INDEX") == "1"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(wheel)]
    installed = run(install + ([] if from_index else ["--no-deps"]) + (["pytest"] if from_index else []),
                    cwd=outside)
    assert installed.returncode == 0, installed.stderr
    if not from_index:
        site = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=outside)
        ours = sysconfig.get_paths()["purelib"]
        Path(site.stdout.strip(), "zz_dependencies.pth").write_text(ours + "\n", encoding="utf-8")

    project = outside / "project"
    project.mkdir()
    (project / "test_export_project.py").write_text(block.code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CYTOMINE_", "PYTEST_"))}
    where = run([str(python), "-c", "import cytomine_sdk.testing as t; print(t.__file__)"], cwd=project, env=env)
    assert where.returncode == 0 and str(venv) in where.stdout, where.stdout + where.stderr

    proc = run([str(python), "-m", "pytest", "-v", "-p", "no:cacheprovider", "test_export_project.py"],
               cwd=project, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    passed = set(re.findall(r"::(\w+)\[(2026|2025|legacy)\] PASSED", proc.stdout))
    tests = {name for name, _ in passed}
    assert len(tests) == 3 and passed == {(t, g) for t in tests for g in ("2026", "2025", "legacy")}
    assert "plugins:" in proc.stdout and "cytomine" in proc.stdout.split("plugins:", 1)[1].splitlines()[0]
