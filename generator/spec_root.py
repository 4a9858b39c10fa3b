"""Write the `tags`, `paths` and `x-cytomine-excluded` of spec/openapi.yaml from spec/services/.

    python generator/spec_root.py           # rewrite spec/openapi.yaml (`make spec-root`)
    python generator/spec_root.py --check   # fail if it is not up to date

Each service file declares its tag once, at its top:

    x-cytomine-service: {tag: project, description: Projects.}

and lists the inventory rows it leaves out (with reasons) under `x-cytomine-excluded`. The root
file keeps its hand-written header (info, servers, security, components); only the index is
derived, so service files can be written independently.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"


def _escape(path: str) -> str:
    return path.replace("~", "~0").replace("/", "~1")


def build_root(spec_dir: Path = SPEC) -> str:
    root = yaml.load((spec_dir / "openapi.yaml").read_text(encoding="utf-8"), Loader=LOADER)
    tags: list[dict[str, str]] = []
    paths: dict[str, Any] = {}
    excluded: list[dict[str, str]] = []
    for file in sorted((spec_dir / "services").glob("*.yaml")):
        doc = yaml.load(file.read_text(encoding="utf-8"), Loader=LOADER) or {}
        service = doc.get("x-cytomine-service") or {}
        if service.get("tag") != file.stem:
            raise SystemExit(f"{file}: needs `x-cytomine-service: {{tag: {file.stem}, description: ...}}`")
        tags.append({"name": service["tag"], "description": str(service.get("description", ""))})
        for path in doc.get("paths") or {}:
            if path in paths:
                raise SystemExit(f"{file}: {path} is already defined in {paths[path]['$ref'].split('#')[0]}")
            paths[path] = {"$ref": f"services/{file.name}#/paths/{_escape(path)}"}
        excluded += doc.get("x-cytomine-excluded") or []
    root["tags"] = tags
    root["paths"] = paths
    root["x-cytomine-excluded"] = sorted(excluded, key=lambda e: (str(e.get("path")), str(e.get("method"))))
    header = "# Root of the spec. tags, paths and x-cytomine-excluded are written by `make spec-root`\n"
    header += "# from spec/services/*.yaml; edit the rest by hand.\n"
    return header + yaml.safe_dump(root, sort_keys=False, allow_unicode=True, width=110)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if spec/openapi.yaml is not up to date")
    args = ap.parse_args()
    text = build_root()
    target = SPEC / "openapi.yaml"
    if args.check:
        if target.read_text(encoding="utf-8") != text:
            print("spec/openapi.yaml is not up to date with spec/services/; run `make spec-root`")
            return 1
        print("spec/openapi.yaml is up to date")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
