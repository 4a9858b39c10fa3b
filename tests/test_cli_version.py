"""`cytomine --version`: the SDK's version and the API spec version of the generated layer."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import cytomine_sdk
import cytomine_sdk_gen
from cytomine_sdk import cli

ROOT = Path(__file__).resolve().parent.parent


def _spec_version() -> str:
    with open(ROOT / "spec" / "openapi.yaml", encoding="utf-8") as fh:
        return str(yaml.safe_load(fh)["info"]["version"])


def test_version_prints_sdk_and_spec_versions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"cytomine-sdk {cytomine_sdk.__version__}, ")
    assert f"generated from the Cytomine API spec {_spec_version()} " in out
    assert f"(Python {sys.version.split()[0]})" in out


def test_version_needs_no_command_nor_credentials() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cytomine_sdk.cli", "--version"],
        check=True, capture_output=True, text=True, cwd="/", env={"PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.startswith("cytomine-sdk ")
    assert out.stderr == ""


def test_installed_version_is_the_package_version() -> None:
    assert importlib.metadata.version("cytomine-sdk") == cytomine_sdk.__version__
    assert cli._sdk_version() == cytomine_sdk.__version__


def test_version_from_the_package_when_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert cli._sdk_version() == cytomine_sdk.__version__


def test_spec_version_declared_by_the_generated_package_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cytomine_sdk_gen, "__api_version__", "2099.9", raising=False)
    assert cli._api_spec_version() == "2099.9"


def test_spec_version_read_from_the_generated_models() -> None:
    assert getattr(cytomine_sdk_gen, "__api_version__", None) in (None, _spec_version())
    assert cli._api_spec_version() == _spec_version()


def test_version_does_not_import_models() -> None:
    code = (
        "import sys\nfrom cytomine_sdk import cli\ncli._version_text()\n"
        "print(sorted(m for m in sys.modules if m.startswith('cytomine_sdk_gen.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd="/")
    assert out.stdout.strip() == "[]"
