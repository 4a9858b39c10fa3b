"""One distribution, `cytomine-sdk`: both packages in the wheel, imports lazy."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

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


def test_wheel_ships_both_packages(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("cytomine_sdk-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "cytomine_sdk/__init__.py",
        "cytomine_sdk/client.py",
        "cytomine_sdk/py.typed",
        "cytomine_sdk_gen/__init__.py",
        "cytomine_sdk_gen/api/project_api.py",
        "cytomine_sdk_gen/models/project.py",
        "cytomine_sdk_gen/py.typed",
    ):
        assert expected in names
    assert not any(n.startswith(("tests/", "generator/", "spec/")) for n in names)
