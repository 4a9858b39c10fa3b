"""Annotation export (GeoJSON per image, label masks) and the `cytomine` command, on the stub."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
from PIL import Image
from shapely.geometry import shape

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.bulk import NewAnnotation, create_annotations
from cytomine_sdk.cli import main
from cytomine_sdk.export import export_annotations
from tests.support.stub import CytomineStub

DONUT = "POLYGON ((0 0, 4000 0, 4000 4000, 0 4000, 0 0), (1000 1000, 3000 1000, 3000 3000, 1000 3000, 1000 1000))"


@pytest.fixture
def stub() -> CytomineStub:
    with CytomineStub("2026") as server:
        yield server


def client(stub: CytomineStub) -> ApiClient:
    return ApiClient(Configuration(stub.host, public_key=stub.public_key, private_key=stub.private_key))


def test_geojson_per_image_and_masks(stub: CytomineStub, tmp_path: Path) -> None:
    api = client(stub)
    create_annotations(api, [NewAnnotation(DONUT, image=201, terms=[21])]).raise_for_failures()
    report = export_annotations(api, 100, tmp_path, masks=True, mask_max_size=500)
    terms = json.loads((tmp_path / "terms.json").read_text())
    assert [(t["id"], t["mask_value"]) for t in terms] == [(20, 1), (21, 2), (22, 3)]
    for image in report.images:
        collection = json.loads(image.geojson.read_text())
        expected = [a for a in stub.state.annotations.values() if a.image == image.image]
        assert collection["type"] == "FeatureCollection"
        assert len(collection["features"]) == len(expected) == image.annotations
        for feature in collection["features"]:
            source = stub.state.annotations[feature["properties"]["annotation"]]
            assert shape(feature["geometry"]).equals(shapely.from_wkt(source.location))
            assert feature["properties"]["image"] == image.image
            assert feature["properties"]["terms"] == list(source.terms)
            assert feature["properties"]["term_names"] == [stub.state.terms[t].name for t in source.terms]
    mask_201 = np.array(Image.open(tmp_path / "image-201-mask.png"))
    image_201 = stub.state.images[201]
    scale = 500 / max(image_201.width, image_201.height)
    assert mask_201.shape == (round(image_201.height * scale), round(image_201.width * scale))
    # the donut, bottom-left of the image (y up): ring drawn with term 21's value, hole left as is
    ring_row = round((image_201.height - 500) * scale)
    hole_row = round((image_201.height - 2000) * scale)
    assert mask_201[ring_row, round(500 * scale)] == 2
    assert mask_201[hole_row, round(2000 * scale)] == 0
    assert set(np.unique(mask_201)) <= {0, 1, 2, 3}


def test_export_filters(stub: CytomineStub, tmp_path: Path) -> None:
    report = export_annotations(client(stub), 100, tmp_path, images=[200], terms=[20])
    assert [i.image for i in report.images] == [200]
    features = json.loads(report.images[0].geojson.read_text())["features"]
    assert features and all(20 in f["properties"]["terms"] for f in features)
    assert not list(tmp_path.glob("*.png"))
    with pytest.raises(ValueError, match="project"):
        export_annotations(client(stub), 0, tmp_path)


def test_command_line(stub: CytomineStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CYTOMINE_HOST", stub.host)
    monkeypatch.setenv("CYTOMINE_PUBLIC_KEY", stub.public_key)
    monkeypatch.setenv("CYTOMINE_PRIVATE_KEY", stub.private_key)
    assert main(["export-annotations", "--project", "100", "--out", str(tmp_path / "out"), "--masks"]) == 0
    assert "annotations of 2 images written" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "image-200-mask.png", "image-200.geojson", "image-201-mask.png", "image-201.geojson", "terms.json"]
    assert main(["export-annotations", "--project", "999", "--out", str(tmp_path / "x")]) == 1
    assert "error" in capsys.readouterr().err


def test_command_line_in_a_terminal_without_tqdm(stub: CytomineStub, tmp_path: Path) -> None:
    # A progress bar by default in a terminal, but tqdm is an optional extra: without it the
    # command works, without a bar. Run with stderr on a pseudo-terminal and tqdm unimportable.
    import os
    import pty
    import subprocess
    import sys

    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "tqdm.py").write_text("raise ImportError('tqdm is not installed')\n")
    env = {**os.environ, "CYTOMINE_HOST": stub.host, "CYTOMINE_PUBLIC_KEY": stub.public_key,
           "CYTOMINE_PRIVATE_KEY": stub.private_key,
           "PYTHONPATH": os.pathsep.join([str(blocker), *sys.path])}
    primary, secondary = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cytomine_sdk.cli", "export-annotations", "--project", "100",
             "--out", str(tmp_path / "out")],
            env=env, stdout=subprocess.PIPE, stderr=secondary, timeout=60, check=False,
        )
    finally:
        os.close(secondary)
        os.close(primary)
    assert done.returncode == 0, done.stdout
    assert b"annotations of" in done.stdout


def test_command_line_help() -> None:
    out = subprocess.run([sys.executable, "-m", "cytomine_sdk.cli", "export-annotations", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for option in ("--project", "--out", "--masks", "--host", "--profile"):
        assert option in out


def test_exports_of_several_images_into_one_folder_at_once(stub: CytomineStub, tmp_path: Path) -> None:
    # Each export writes the folder's shared terms.json: concurrent writers (threads here; processes
    # or a Dask cluster for users) must not rename away each other's temporary file.
    from concurrent.futures import ThreadPoolExecutor

    api = client(stub)
    with ThreadPoolExecutor(8) as pool:
        jobs = [pool.submit(export_annotations, api, 100, tmp_path, images=[image]) for image in [200, 201] * 12]
        reports = [job.result() for job in jobs]
    assert all(r.images for r in reports)
    assert json.loads((tmp_path / "terms.json").read_text())
    assert not list(tmp_path.glob(".*.part"))
