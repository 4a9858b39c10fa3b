"""Every Python example of README.md runs, against the stub server (each in its own process).

All of them, the not-run ones included, are type-checked by `make typecheck-docs`.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.doc_blocks import readme_blocks
from tests.support.stub import CytomineStub

# (marker, code, line); `make typecheck-docs` type-checks the same blocks.
EXAMPLES = readme_blocks()


def test_almost_every_example_runs() -> None:
    not_run = [marker for marker, _, _ in EXAMPLES if marker.startswith("not run")]
    assert EXAMPLES[0][0].startswith("not run")  # the quick start shows a real server
    assert len(not_run) <= 3 and all(len(m) > len("not run: ") + 10 for m in not_run), "say why"
    assert len(EXAMPLES) - len(not_run) >= 10


@pytest.mark.parametrize(("marker", "code", "line"), EXAMPLES, ids=[f"line{e[2]}" for e in EXAMPLES])
def test_readme_example_runs(marker: str, code: str, line: int, tmp_path: Path) -> None:
    if marker.startswith("not run"):
        pytest.skip(marker)
    argv = shlex.split(marker[len("argv:"):]) if marker.startswith("argv:") else []
    with CytomineStub("2026") as stub:
        env = {
            **os.environ,
            "CYTOMINE_HOST": stub.host,
            "CYTOMINE_PUBLIC_KEY": stub.public_key,
            "CYTOMINE_PRIVATE_KEY": stub.private_key,
            "CYTOMINE_CONFIG": str(tmp_path / "config.ini"),
        }
        if marker == "env: password":  # an IAM login instead of keys
            del env["CYTOMINE_PUBLIC_KEY"], env["CYTOMINE_PRIVATE_KEY"]
            env.update(CYTOMINE_USERNAME=stub.username, CYTOMINE_PASSWORD=stub.password)
        proc = subprocess.run([sys.executable, "-c", code, *argv], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"README line {line}:\n{proc.stderr}"
    assert proc.stdout.strip() or proc.stderr.strip(), "an example shows something"
