"""The README's quick start (examples/quickstart.py) works against the stub of each generation."""

from __future__ import annotations

import pytest

from tests.support.demo import run_example
from tests.support.stub import CytomineStub


def test_quickstart_against_stub(generation: str, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    with CytomineStub(generation) as stub:
        monkeypatch.setenv("CYTOMINE_HOST", stub.host)
        monkeypatch.setenv("CYTOMINE_PUBLIC_KEY", stub.public_key)
        monkeypatch.setenv("CYTOMINE_PRIVATE_KEY", stub.private_key)
        monkeypatch.delenv("CYTOMINE_TOKEN", raising=False)
        monkeypatch.delenv("CYTOMINE_SIGNATURE", raising=False)
        assert run_example() == 0
        statuses = [r.status for r in stub.requests]
    out = capsys.readouterr().out
    assert "Signed in as demo (user 1)" in out
    assert "3 project(s):" in out and "Demo: lung biopsies" in out
    # auto-detection costs one 401 on the path-signing generations, then every request passes
    assert statuses.count(401) == (0 if generation == "2026" else 1)
    assert all(s == 200 for s in statuses if s != 401)


def test_quickstart_with_a_bearer_token(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with CytomineStub("2026", token="demo-token") as stub:
        monkeypatch.setenv("CYTOMINE_HOST", stub.host)
        monkeypatch.setenv("CYTOMINE_TOKEN", "demo-token")
        monkeypatch.delenv("CYTOMINE_PUBLIC_KEY", raising=False)
        monkeypatch.delenv("CYTOMINE_PRIVATE_KEY", raising=False)
        assert run_example() == 0
        assert all(r.headers.get("authorization") == "Bearer demo-token" for r in stub.requests)
    assert "Signed in as demo" in capsys.readouterr().out
