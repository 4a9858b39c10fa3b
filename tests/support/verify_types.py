"""`make verifytypes`: pyright's type completeness of the public API (``python -m tests.support.verify_types``).

Runs ``pyright --verifytypes cytomine_sdk --ignoreexternal`` on the package of the source tree and
fails unless every exported symbol has a known, unambiguous type (100 %). pyright asks the
interpreter for its search paths and cannot follow an editable install's import hook: the
source directories are put on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def verify(python: str = sys.executable, package: str = "cytomine_sdk") -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "sdk_core"), str(ROOT / "sdk")])}
    cmd = [str(Path(python).parent / "pyright"), "--pythonpath", python, "--verifytypes", package,
           "--ignoreexternal", "--outputjson"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    try:
        report = json.loads(proc.stdout)["typeCompleteness"]
    except (ValueError, KeyError):
        print(proc.stdout[-2000:] + proc.stderr[-2000:])
        return 1
    counts = report["exportedSymbolCounts"]
    print(f"pyright --verifytypes {package}: {report['completenessScore']:.1%} "
          f"({counts['withKnownType']} known, {counts['withAmbiguousType']} ambiguous, "
          f"{counts['withUnknownType']} unknown)")
    for symbol in report["symbols"]:
        for diagnostic in symbol.get("diagnostics", []):
            if diagnostic["severity"] == "error":
                print(f"  {symbol['name']}: {diagnostic['message']}")
    return 0 if proc.returncode == 0 and report["completenessScore"] == 1 else 1


if __name__ == "__main__":
    raise SystemExit(verify())
