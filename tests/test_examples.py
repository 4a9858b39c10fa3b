"""Every example of examples/ runs against the stub: the README's quick start in-process, the task
examples as scripts (`python examples/x.py ...`), checked by their exit status and what they made."""

from __future__ import annotations

import ast
import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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


# -- The task examples (examples/*.py other than quickstart), each run as `python examples/x.py ...`
# against a stub, with the connection in environment variables as a user would set them.

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TASK_EXAMPLES = ["setup_project", "push_predictions", "training_set", "upload_slides", "audit_project",
                 "download_originals"]


def run(script: str, *args: object, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(EXAMPLES / f"{script}.py"), *map(str, args)]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def connection(stub: CytomineStub, *, login: bool = False) -> dict[str, str]:
    """The environment of a user of `stub`: API keys, or (login=True) an IAM username and password."""
    env = dict(os.environ, CYTOMINE_HOST=stub.host)
    if login:
        env.update(CYTOMINE_USERNAME=stub.username, CYTOMINE_PASSWORD=stub.password)
    else:
        env.update(CYTOMINE_PUBLIC_KEY=stub.public_key, CYTOMINE_PRIVATE_KEY=stub.private_key)
    return env


@pytest.fixture
def stub(generation: str) -> Iterator[CytomineStub]:
    with CytomineStub(generation) as running:
        yield running


@pytest.mark.parametrize("script", TASK_EXAMPLES)
def test_help(script: str, tmp_path: Path) -> None:
    proc = run(script, "--help", env=dict(os.environ), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    docstring = ast.get_docstring(ast.parse((EXAMPLES / f"{script}.py").read_text(encoding="utf-8")))
    assert docstring and docstring.splitlines()[0] in proc.stdout   # says what it does
    assert "--host" in proc.stdout and "--profile" in proc.stdout    # and how it connects


def test_setup_project(stub: CytomineStub, tmp_path: Path) -> None:
    args = ["--project", "Margins study", "--ontology", "Margins", "--term", "Tumour:#FF0000", "--term", "Margin",
            "--member", "alice", "--manager", "demo"]
    proc = run("setup_project", *args, env=connection(stub), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    state = stub.state
    (project,) = [p for p in state.projects.values() if p.name == "Margins study"]
    (ontology,) = [o for o in state.ontologies.values() if o.name == "Margins"]
    assert project.ontology == ontology.id
    assert {(t.name, t.color) for t in state.terms_of_ontology(ontology.id)} == {("Tumour", "#FF0000"),
                                                                                  ("Margin", "#4CAF50")}
    assert 2 in project.users and 1 in project.admins
    assert f"Project {project.id} 'Margins study'" in proc.stdout and "alice, demo" in proc.stdout
    # Run again: everything exists, nothing is created twice.
    counts = (len(state.projects), len(state.ontologies), len(state.terms))
    again = run("setup_project", *args, env=connection(stub), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (len(state.projects), len(state.ontologies), len(state.terms)) == counts
    assert "Created" not in again.stdout


def test_setup_project_unknown_member(tmp_path: Path) -> None:
    with CytomineStub("2026") as stub:
        proc = run("setup_project", "--project", "P", "--ontology", "O", "--member", "nobody",
                   env=connection(stub), cwd=tmp_path)
    assert proc.returncode == 1
    assert "no such user(s): nobody" in proc.stderr


def feature(geometry: dict[str, object], **properties: object) -> dict[str, object]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def test_push_predictions(stub: CytomineStub, tmp_path: Path) -> None:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [80, 0], [80, 60], [0, 60], [0, 0]]]}
    predictions = {"type": "FeatureCollection", "features": [
        feature(square, term="Tumour", score=0.93, image=200),
        feature({"type": "Point", "coordinates": [100, 200]}, term=21, score=0.7, image=201, cells=12),
        feature({"type": "Point", "coordinates": [1, 1]}, term="Stroma", score=0.2, image=201),  # below --min-score
    ]}
    (tmp_path / "predictions.geojson").write_text(json.dumps(predictions))
    before = set(stub.state.annotations)
    proc = run("push_predictions", "predictions.geojson", "--project", 100, "--model", "unet-v3",
               "--min-score", 0.5, "--origin", "top-left", env=connection(stub), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "2 of 3 predictions have a score >= 0.5" in proc.stdout and "2 annotation(s) created" in proc.stdout
    created = sorted((stub.state.annotations[i] for i in set(stub.state.annotations) - before), key=lambda a: a.id)
    assert [(a.image, a.terms) for a in created] == [(200, [20]), (201, [21])]
    height = stub.state.images[201].height   # top-left pixel coordinates, flipped to Cytomine's
    assert created[1].location == f"POINT (100 {height - 200})"
    (bulk,) = [r for r in stub.requests if r.method == "POST" and r.path == "/api/annotation.json"]
    assert [item["properties"] for item in bulk.json()] == [
        {"score": "0.93", "model": "unet-v3"}, {"score": "0.7", "cells": "12", "model": "unet-v3"}]


def test_push_predictions_reports_refused_items(tmp_path: Path) -> None:
    point = {"type": "Point", "coordinates": [5, 5]}
    predictions = {"type": "FeatureCollection", "features": [
        feature(point, term="Tumour", image=200), feature(point, term="Tumour", image=999999)]}
    (tmp_path / "predictions.geojson").write_text(json.dumps(predictions))
    with CytomineStub("2025") as stub:
        proc = run("push_predictions", "predictions.geojson", "--project", 100, env=connection(stub), cwd=tmp_path)
    assert proc.returncode == 1
    assert "1 annotation(s) created" in proc.stdout
    assert "feature 1 refused: ImageInstance 999999 not found" in proc.stderr
    refused = json.loads((tmp_path / "failed-predictions.geojson").read_text())
    assert refused["features"] == predictions["features"][1:]


def test_training_set(stub: CytomineStub, tmp_path: Path) -> None:
    proc = run("training_set", "--project", 100, "--out", "dataset", "--arrays", 32, env=connection(stub),
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "dataset"
    # seed annotations of project 100 with terms: 300 Tumour, 301 Stroma, 303 Tumour and Necrosis
    for term, ids in {"Tumour": [300, 303], "Stroma": [301], "Necrosis": [303]}.items():
        for kind in ("images", "masks"):
            assert sorted(p.name for p in (out / term / kind).iterdir()) == [f"{i}.png" for i in ids]
    with open(out / "labels.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert sorted((r["annotation"], r["term"], r["image_id"]) for r in rows) == [
        ("300", "Tumour", "200"), ("301", "Stroma", "200"), ("303", "Necrosis", "201"), ("303", "Tumour", "201")]
    assert all((out / r["image"]).is_file() and (out / r["mask"]).is_file() for r in rows)
    masks = [r for r in stub.requests if r.path.startswith("/api/annotation/") and r.query.get("mask") == ["true"]]
    assert len(masks) == 4 and all(r.query.get("type") == ["mask"] for r in masks)
    import numpy
    with numpy.load(out / "dataset.npz") as arrays:
        assert arrays["x"].shape == (4, 32, 32, 3) and arrays["y"].shape == (4, 32, 32)
        assert sorted(arrays["annotation"].tolist()) == [300, 301, 303, 303]


def test_audit_project(stub: CytomineStub, tmp_path: Path) -> None:
    proc = run("audit_project", "--project", 100, "--csv", "audit.csv", env=connection(stub), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Project 100 'Demo: lung biopsies': 4 annotation(s), 2 image(s), 2 member(s)" in proc.stdout
    lines = [line.split(maxsplit=1) for line in proc.stdout.splitlines()]
    assert ["2", "Tumour"] in lines and ["1", "(no term)"] in lines
    assert ["3", "demo"] in lines and ["1", "alice"] in lines and ["3", "biopsy-001.svs"] in lines
    with open(tmp_path / "audit.csv", newline="") as file:
        rows = {(r["kind"], r["name"]): int(r["count"]) for r in csv.DictReader(file)}
    assert rows == {("term", "(no term)"): 1, ("term", "Tumour"): 2, ("term", "Stroma"): 1, ("term", "Necrosis"): 1,
                    ("user", "demo"): 3, ("user", "alice"): 1,
                    ("image", "biopsy-001.svs"): 3, ("image", "biopsy-002.svs"): 1}


def test_download_originals(stub: CytomineStub, tmp_path: Path) -> None:
    # 2025/2026 read the user of original-file downloads from a token: log in; legacy takes keys.
    env = connection(stub, login=stub.generation != "legacy")
    proc = run("download_originals", "--project", 100, "--out", "slides", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    slides = tmp_path / "slides"
    assert sorted(p.name for p in slides.iterdir()) == ["biopsy-001.svs", "biopsy-002.svs"]
    assert (slides / "biopsy-002.svs").read_bytes().endswith((201).to_bytes(4, "big"))   # the stub's content
    assert "2 of 2 original file(s)" in proc.stdout
    again = run("download_originals", "--project", 100, "--out", "slides", env=env, cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.count("already there") == 2


def test_download_originals_with_keys_on_a_token_server(tmp_path: Path) -> None:
    with CytomineStub("2026") as stub:
        proc = run("download_originals", "--project", 100, "--out", "slides", env=connection(stub), cwd=tmp_path)
    assert proc.returncode == 1
    assert "bearer token" in proc.stderr and "Traceback" not in proc.stderr


def test_upload_slides(stub: CytomineStub, tmp_path: Path) -> None:
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "case-7.svs").write_bytes(b"II*\0" + bytes(5000))
    proc = run("upload_slides", "scans", "--project", 101, "--property", "scanner=S360", env=connection(stub),
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "case-7.svs: DEPLOYED" in proc.stdout and "1 of 1 slide(s) ready in storage 9001" in proc.stdout
    (uploaded,) = stub.state.uploaded_files.values()
    assert uploaded["originalFilename"] == "case-7.svs" and uploaded["size"] == 5004
    assert [i.filename for i in stub.state.images_of_project(101)] == ["case-7.svs"]
    (upload,) = [r for r in stub.requests if r.path == "/upload"]
    assert upload.query["storage"] == ["9001"] and upload.query["keys"] == ["scanner"]


def test_upload_slides_reports_a_failed_conversion(tmp_path: Path) -> None:
    (tmp_path / "good.svs").write_bytes(b"II*\0" + bytes(100))
    (tmp_path / "notes.svs").write_bytes(b"not a slide, a text")
    with CytomineStub("legacy") as stub:
        proc = run("upload_slides", "good.svs", "notes.svs", "--poll", 0.1, env=connection(stub), cwd=tmp_path)
    assert proc.returncode == 1
    assert "good.svs: DEPLOYED" in proc.stdout and "1 of 2 slide(s) ready" in proc.stdout
    assert "notes.svs: FAILED: uploaded file" in proc.stderr and "ERROR_FORMAT" in proc.stderr
