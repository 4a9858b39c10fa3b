"""Every Python example of README.md and of docs/ runs, against the stub server (each in its own process).

All of them, the not-run ones included, are type-checked by `make typecheck-docs`. A block runs as
a script file (`__file__` is set) in a temporary directory, with the repository root importable
(the testing guide imports `tests.support`), and the stub's host and keys in the environment.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.doc_blocks import ROOT, doc_blocks
from tests.support.stub import CytomineStub

# (marker, code, line, path); `make typecheck-docs` type-checks the same blocks.
EXAMPLES = doc_blocks()


def test_almost_every_example_runs() -> None:
    readme = [e for e in EXAMPLES if e.path == "README.md"]
    assert readme and readme[0].marker.startswith("not run")  # the quick start shows a real server
    assert any(e.path.startswith("docs/guide/") for e in EXAMPLES), "the guide's blocks are found"
    not_run = [e.marker for e in EXAMPLES if e.marker.startswith("not run")]
    assert len(not_run) <= 3 and all(len(m) > len("not run: ") + 10 for m in not_run), "say why"
    assert len(EXAMPLES) - len(not_run) >= 25


# Blocks marked "not run: <why>" are type-checked only (make typecheck-docs), not collected here:
# test_almost_every_example_runs holds them to a few, each with its reason.
RUN = [e for e in EXAMPLES if not e.marker.startswith("not run")]


@pytest.mark.parametrize("example", RUN, ids=[f"{e.path}:{e.line}" for e in RUN])
def test_doc_example_runs(example: tuple[str, str, int, str], tmp_path: Path) -> None:
    marker, code, line, path = example
    argv = shlex.split(marker[len("argv:"):]) if marker.startswith("argv:") else []
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    with CytomineStub("2026") as stub:
        env = {
            **os.environ,
            "CYTOMINE_HOST": stub.host,
            "CYTOMINE_PUBLIC_KEY": stub.public_key,
            "CYTOMINE_PRIVATE_KEY": stub.private_key,
            "CYTOMINE_CONFIG": str(tmp_path / "config.ini"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        for name in ("CYTOMINE_TOKEN", "CYTOMINE_USERNAME", "CYTOMINE_PASSWORD", "CYTOMINE_PROFILE"):
            env.pop(name, None)  # the stub's keys only, whatever the developer's environment holds
        env.pop("CYTOMINE_SIGNATURE", None)
        if marker == "env: password":  # an IAM login instead of keys
            del env["CYTOMINE_PUBLIC_KEY"], env["CYTOMINE_PRIVATE_KEY"]
            env.update(CYTOMINE_USERNAME=stub.username, CYTOMINE_PASSWORD=stub.password)
        proc = subprocess.run([sys.executable, str(script), *argv], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{path}:{line}:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.strip() or proc.stderr.strip(), "an example shows something"
