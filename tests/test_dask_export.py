"""cytomine_sdk.dask on a LocalCluster of 2 worker processes, against the stub: the same files as
the single-process export, and a user's function over annotations, with a per-item report."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cytomine_sdk import ApiClient
from cytomine_sdk.datasets import AnnotationRecord
from cytomine_sdk.export import export_annotations
from tests.support.stub import CytomineStub

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

DONUT = "POLYGON ((0 0, 4000 0, 4000 4000, 0 4000, 0 0), (1000 1000, 3000 1000, 3000 3000, 1000 3000, 1000 1000))"


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.Client]:
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local,
        distributed.Client(local) as client,
    ):
        yield client


@pytest.fixture
def stub() -> Iterator[CytomineStub]:
    with CytomineStub("2026") as server:
        yield server


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_files_as_the_single_process_export(cluster: distributed.Client, stub: CytomineStub,
                                                  tmp_path: Path) -> None:
    from cytomine_sdk import dask as cytomine_dask
    from cytomine_sdk.bulk import NewAnnotation, create_annotations

    api = stub.client()
    create_annotations(api, [NewAnnotation(DONUT, image=201, terms=[21])]).raise_for_failures()
    alone = export_annotations(api, 100, tmp_path / "alone", masks=True, mask_max_size=500)
    seen: list[int] = []
    report = cytomine_dask.export_annotations(cluster, api, 100, tmp_path / "dask", masks=True, mask_max_size=500,
                                              on_progress=lambda done, total: seen.append(done))
    assert report.ok and sorted(report.results) == [200, 201] and seen[-1] == 2
    assert files(tmp_path / "dask") == files(tmp_path / "alone")
    assert len(files(tmp_path / "dask")) == 5  # terms.json, and a GeoJSON and a mask per image
    assert [report.results[i.image].annotations for i in alone.images] == [i.annotations for i in alone.images]


def test_an_image_that_fails_is_reported(cluster: distributed.Client, stub: CytomineStub, tmp_path: Path) -> None:
    from cytomine_sdk import dask as cytomine_dask

    report = cytomine_dask.export_annotations(cluster, stub.client(), 100, tmp_path, images=[200, 999])
    assert sorted(report.results) == [200] and (tmp_path / "image-200.geojson").exists()
    assert report.failed[999].startswith("NotFoundError")
    assert not (tmp_path / "image-999.geojson").exists()


def vertex_count(api_client: ApiClient, annotation: AnnotationRecord) -> int:
    """A user's function: runs in a worker; fails on one annotation on purpose."""
    if annotation.id == 301:
        raise RuntimeError("cannot measure 301")
    return annotation.location.count(",") + 1


def test_a_function_over_annotations(cluster: distributed.Client, stub: CytomineStub) -> None:
    from cytomine_sdk import dask as cytomine_dask

    report = cytomine_dask.map_annotations(cluster, stub.client(), 100, vertex_count)
    assert report.results == {300: 5, 302: 5, 303: 5}
    assert report.failed == {301: "RuntimeError: cannot measure 301"}
    only = cytomine_dask.map_annotations(cluster, stub.client(), 100, vertex_count, images=[201], terms=[22])
    assert only.results == {303: 5} and only.ok


def test_importing_needs_no_dask() -> None:
    # The module imports dask only when a function runs; without it, the error names the extra.
    code = (
        "import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None\n"
        "from cytomine_sdk import dask as d\n"
        "try:\n    d.export_annotations(None, None, 1, 'x', images=[1])\n"
        "except ImportError as e:\n    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'cytomine-sdk[dask]'" in done.stdout
