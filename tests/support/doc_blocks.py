"""The README's Python blocks, and `make typecheck-docs`: ``python -m tests.support.doc_blocks``.

`readme_blocks()` finds the ```python blocks of README.md and the marker comment above each
(`<!-- not run: why -->`, `<!-- argv: ... -->`); tests/test_readme.py runs them. Run as a
script, this writes every block (not-run ones included) into a temporary directory and checks
them, with examples/ and tests/support/type_assertions.py, with `mypy --strict` and pyright
(strict mode) against the package as the source tree has it: what users copy must type-check.

A not-run block may use an `api_client` it does not create (it shows one call): it is checked
after a line opening one. Errors are reported at their README line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK = re.compile(r"(?:<!-- (?P<marker>[^>]*) -->\n)?```python\n(?P<code>.*?)```", re.DOTALL)
# Checked with the README blocks: examples users copy, and typing assertions on the API surface.
CHECKED = [ROOT / "examples", ROOT / "tests" / "support" / "type_assertions.py"]
# For a block that uses `api_client` without creating it (one line, so that line numbers shift by one).
PRELUDE = "from cytomine_sdk import ApiClient, Configuration; api_client = ApiClient(Configuration.from_env())\n"


class Block(NamedTuple):
    marker: str  # the comment above the block ("not run: ...", "argv: ..."), or ""
    code: str
    line: int  # the README line of the block's first line of code


def readme_blocks(readme: Path = README) -> list[Block]:
    """The ```python blocks of `readme`, in order."""
    text = readme.read_text(encoding="utf-8")
    return [
        Block(m.group("marker") or "", m.group("code"), text[: m.start("code")].count("\n") + 1)
        for m in BLOCK.finditer(text)
    ]


def _needs_client(code: str) -> bool:
    return "api_client" in code and not re.search(r"\bas api_client\b|^api_client\s*=", code, re.MULTILINE)


def write_blocks(dest: Path, readme: Path = README) -> dict[str, tuple[int, int]]:
    """Write each block of `readme` to `dest` as readme_line<N>.py; {file name: (README line, shift)}."""
    where: dict[str, tuple[int, int]] = {}
    for block in readme_blocks(readme):
        prelude = PRELUDE if _needs_client(block.code) else ""
        name = f"readme_line{block.line}.py"
        dest.joinpath(name).write_text(prelude + block.code, encoding="utf-8")
        where[name] = (block.line, prelude.count("\n"))
    return where


def _to_readme(output: str, where: dict[str, tuple[int, int]]) -> str:
    """Point at README.md lines instead of the temporary files."""

    def repl(m: re.Match[str]) -> str:
        first, shift = where[m.group("name")]
        return f"README.md:{first + int(m.group('line')) - 1 - shift}"

    output = re.sub(r"\S*(?P<name>readme_line\d+\.py):(?P<line>\d+)", repl, output)
    return re.sub(r"\S*readme_line(\d+)\.py", r"README.md (the block at line \1)", output)


def check(python: str = sys.executable) -> int:
    """Run mypy --strict and pyright on the README blocks, examples/ and the typing assertions."""
    bin_dir = Path(python).parent
    with tempfile.TemporaryDirectory(prefix="cytomine-doc-blocks-") as tmp:
        blocks = Path(tmp) / "blocks"
        blocks.mkdir()
        where = write_blocks(blocks)
        files = [str(blocks / name) for name in where] + [str(p) for p in CHECKED]
        # mypy: the project's configuration (mypy_path = the source tree), strict.
        mypy = [str(bin_dir / "mypy"), "--config-file", str(ROOT / "pyproject.toml"), "--strict", *files]
        # pyright: strict, the package found in the source tree (an editable install is an import hook).
        config = Path(tmp) / "pyrightconfig.json"
        config.write_text(json.dumps({
            "extraPaths": [str(ROOT / "sdk_core"), str(ROOT / "sdk")],
            "pythonVersion": "3.10",
            "typeCheckingMode": "strict",
        }), encoding="utf-8")
        pyright = [str(bin_dir / "pyright"), "--pythonpath", python, "-p", str(config), *files]
        status = 0
        for name, cmd in (("mypy --strict", mypy), ("pyright (strict)", pyright)):
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            out = _to_readme(proc.stdout + proc.stderr, where).strip()
            print(f"{name}: {out.splitlines()[-1] if out else '(no output)'}")
            if proc.returncode != 0:
                print(out)
                status = 1
        return status


if __name__ == "__main__":
    raise SystemExit(check())
