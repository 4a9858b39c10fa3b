"""What ``make demo`` runs: ``python -m tests.support.demo``.

If ``CYTOMINE_HOST`` is set (a real server), ``examples/quickstart.py`` runs as
is.  Otherwise a local :class:`~cytomine_sdk.testing.CytomineStub` is started
(generation from ``CYTOMINE_STUB_GENERATION``, default ``"2026"``), its host and
keys are put in ``CYTOMINE_HOST``, ``CYTOMINE_PUBLIC_KEY`` and
``CYTOMINE_PRIVATE_KEY``, the example runs against it and the stub is stopped.
The exit status is the example's.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback
from pathlib import Path

from cytomine_sdk.testing import CytomineStub

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


def _exit_code(code: object) -> int:
    """The process status ``SystemExit(code)`` would give."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run_example(path: Path = QUICKSTART) -> int:
    """Run ``path`` like ``python path`` would (as ``__main__``); return its exit status."""
    if not path.is_file():
        print(f"demo: {path} not found", file=sys.stderr)
        return 2
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [str(path)]
    sys.path.insert(0, str(path.parent))
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exc:
        return _exit_code(exc.code)
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return 0


def main() -> int:
    if os.environ.get("CYTOMINE_HOST"):
        return run_example()
    generation = os.environ.get("CYTOMINE_STUB_GENERATION", "2026")
    with CytomineStub(generation) as stub:
        os.environ["CYTOMINE_HOST"] = stub.host
        os.environ["CYTOMINE_PUBLIC_KEY"] = stub.public_key
        os.environ["CYTOMINE_PRIVATE_KEY"] = stub.private_key
        os.environ.pop("CYTOMINE_TOKEN", None)  # the stub was started without a token
        print(f"CYTOMINE_HOST is not set: using a local Cytomine stub (generation {generation}) at {stub.host}")
        sys.stdout.flush()
        return run_example()


if __name__ == "__main__":
    raise SystemExit(main())
