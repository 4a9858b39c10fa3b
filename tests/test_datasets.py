"""Datasets of annotation crops and image tiles, on the stub: samples, labels, masks, the on-disk
cache, and several processes reading one dataset (multiprocessing, torch's DataLoader)."""

from __future__ import annotations

import io
import multiprocessing
import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from PIL import Image

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.datasets import AnnotationDataset, AnnotationSample, TileDataset
from tests.support.stub import CytomineStub, Request, Response

# These tests fork a process that runs threads on purpose (servers, pools); Python 3.12+ warns
# that this may deadlock, which is what the fork handling under test prevents.
pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


WINDOW = re.compile(r"/api/imageinstance/\d+/window-(\d+)-(\d+)-(\d+)-(\d+)\.png")


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def crop_of(stub: CytomineStub, req: Request) -> Response:
    """A crop the size Cytomine makes it (bounding box, enlarged, longer side maxSize), each
    pixel telling the annotation and its position: a sample mixed up with another is caught."""
    annotation = stub.state.annotations[req.path_int("id")]
    left, bottom, right, top = shapely.from_wkt(annotation.location).bounds
    factor = float(req.arg("increaseArea") or 1)
    width, height = (right - left) * factor, (top - bottom) * factor
    scale = int(req.arg("maxSize") or 256) / max(width, height)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    pixels = np.zeros((h, w, 3), dtype=np.uint8)
    pixels[..., 0] = annotation.id % 251
    pixels[..., 1] = np.arange(w)[None, :] % 251
    pixels[..., 2] = np.arange(h)[:, None] % 251
    return Response(200, png(pixels), {"Content-Type": "image/png"})


def window_of(stub: CytomineStub, req: Request) -> Response:
    match = WINDOW.fullmatch(req.path)
    assert match is not None
    x, y, w, h = map(int, match.groups())
    pixels = (np.add.outer(np.arange(y, y + h), np.arange(x, x + w)) % 251).astype(np.uint8)
    return Response(200, png(pixels), {"Content-Type": "image/png"})


@pytest.fixture
def stub() -> Iterator[CytomineStub]:
    with CytomineStub("2026") as server:
        server.add_route("GET", "/api/annotation/{id}/crop.{format:str}", crop_of)
        server.add_route("GET", "/api/imageinstance/{id}/window-{x}-{y}-{w}-{h}.{format:str}", window_of)
        yield server


def client(stub: CytomineStub) -> ApiClient:
    return ApiClient(Configuration(stub.host, public_key=stub.public_key, private_key=stub.private_key))


def crops(stub: CytomineStub) -> list[str]:
    return [r.path for r in stub.requests if "/crop." in r.path]


def same(a: AnnotationSample, b: AnnotationSample) -> bool:
    return (a.annotation, a.image_id, a.label) == (b.annotation, b.image_id, b.label) and bool(
        np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask))


def test_samples_labels_and_masks(stub: CytomineStub) -> None:
    dataset = AnnotationDataset(client(stub), 100, max_size=64)
    assert len(dataset) == 4
    assert [r.id for r in dataset.records] == [300, 301, 302, 303]  # by image, then id
    assert dataset.classes == {0: None, 1: "Tumour", 2: "Stroma", 3: "Necrosis"}
    assert dataset.labels == [1, 2, 0, 1]  # 302 has no term; 303's first term is 20
    assert crops(stub) == []  # listing and labels need no crop

    square, triangle = dataset[0], dataset[1]
    assert (square.annotation, square.image_id, square.label) == (300, 200, 1)
    assert square.image.shape == (64, 64, 3) and (square.image[..., 0] == 300 % 251).all()
    assert square.mask.dtype == np.uint8 and square.mask.shape == (64, 64) and (square.mask == 1).all()
    # The triangle (3000 3000, 3500 3000, 3500 3600): 500 x 600, y up: below the diagonal from the
    # bottom-left corner to the top-right one, about half the box.
    assert triangle.image.shape == (64, 53, 3) and triangle.mask.shape == (64, 53)
    assert triangle.mask[2, -1] == 1 and triangle.mask[-1, -1] == 1 and triangle.mask[-1, 5] == 1
    assert triangle.mask[0, 0] == 0 and triangle.mask[5, 5] == 0 and triangle.mask[0, -5] == 0
    assert 0.4 < triangle.mask.mean() < 0.6
    assert [s.annotation for s in dataset] == [300, 301, 302, 303]
    assert [s.annotation for s in dataset[1:3]] == [301, 302]

    only_necrosis = AnnotationDataset(client(stub), 100, terms=[22], max_size=64)
    assert [r.id for r in only_necrosis.records] == [303] and only_necrosis.labels == [3]
    assert only_necrosis[0].label == 3
    assert [r.id for r in AnnotationDataset(client(stub), 100, images=[201], users=[1]).records] == [303]


def test_context_around_the_annotation(stub: CytomineStub) -> None:
    sample = AnnotationDataset(client(stub), 100, images=[200], max_size=64, increase_area=2)[0]
    request = [r for r in stub.requests if "/crop." in r.path][-1]
    assert float(request.query["increaseArea"][0]) == 2 and request.query["maxSize"] == ["64"]
    # The square fills the middle half of the crop, each way.
    assert sample.mask.shape == (64, 64) and sample.mask[32, 32] == 1 and sample.mask[0, 0] == 0
    assert sample.mask[8, 8] == 0 and sample.mask[24, 24] == 1 and abs(sample.mask.mean() - 0.25) < 0.05
    with pytest.raises(ValueError, match="increase_area"):
        AnnotationDataset(client(stub), 100, increase_area=0.5)


def test_cache_second_pass_makes_no_request(stub: CytomineStub, tmp_path: Path) -> None:
    dataset = AnnotationDataset(client(stub), 100, max_size=64, cache=tmp_path)
    first = list(dataset)
    assert len(crops(stub)) == 4 and len(list(tmp_path.rglob("*.png"))) == 4
    stub.clear_requests()
    second = list(AnnotationDataset(client(stub), 100, max_size=64, cache=tmp_path))
    assert crops(stub) == []
    assert all(same(a, b) for a, b in zip(first, second, strict=True))
    # Other crop parameters are other crops: not served from these entries.
    AnnotationDataset(client(stub), 100, max_size=32, cache=tmp_path)[0]
    assert len(crops(stub)) == 1


def test_half_written_cache_files_are_ignored(stub: CytomineStub, tmp_path: Path) -> None:
    dataset = AnnotationDataset(client(stub), 100, max_size=64, cache=tmp_path)
    expected = list(dataset)
    files = sorted(tmp_path.rglob("*.png"))
    whole = files[0].read_bytes()
    # A writer killed mid-file leaves its temporary file: never read as an entry.
    (files[1].parent / f".{files[1].name}.123-dead.part").write_bytes(files[1].read_bytes()[:40])
    # A file cut short under its final name (copied by hand, a disk fault): downloaded again.
    files[0].write_bytes(whole[: len(whole) // 2])
    stub.clear_requests()
    again = list(dataset)
    assert len(crops(stub)) == 1
    assert all(same(a, b) for a, b in zip(expected, again, strict=True))
    assert files[0].read_bytes() == whole


def _fill(dataset: AnnotationDataset, barrier: Any) -> None:
    barrier.wait()
    for _ in dataset:
        pass


def test_two_processes_filling_one_cache(stub: CytomineStub, tmp_path: Path) -> None:
    for annotation in range(10):  # more crops, so that the two writers overlap
        stub.state.annotations[900 + annotation] = type(stub.state.annotations[300])(
            900 + annotation, 200, 100, 6200, 1, f"POLYGON ((0 0, {100 + annotation} 0, 0 90, 0 0))", 0, terms=[21])
    dataset = AnnotationDataset(client(stub), 100, max_size=48, cache=tmp_path / "cache")
    uncached = AnnotationDataset(client(stub), 100, max_size=48)
    reference = [uncached.crop(i) for i in range(len(uncached))]
    stub.clear_requests()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [context.Process(target=_fill, args=(dataset, barrier)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    files = list((tmp_path / "cache").rglob("*"))
    assert not [f for f in files if f.name.endswith(".part")]
    assert len([f for f in files if f.is_file()]) == len(dataset) == 14
    # Each process downloaded what it did not find: the two started together, so most entries twice.
    assert len(crops(stub)) > len(dataset)
    stub.clear_requests()
    cached = AnnotationDataset(client(stub), 100, max_size=48, cache=tmp_path / "cache")
    assert all(np.array_equal(cached.crop(i), reference[i]) for i in range(len(cached)))
    assert crops(stub) == []


def test_pickles_without_its_connections(stub: CytomineStub) -> None:
    api = client(stub)
    dataset = AnnotationDataset(api, 100, max_size=64)
    dataset[0]  # connections open
    copy = pickle.loads(pickle.dumps(dataset))
    assert copy.records == dataset.records and copy.classes == dataset.classes
    assert copy._connection._client is None and copy._connection.configuration.host == stub.host
    assert same(copy[1], dataset[1])
    copy.close()
    dataset.close()
    assert api.project_api.retrieve(100).id == 100  # the caller's client is the caller's to close
    # A Configuration is enough to build one (e.g. in a worker).
    config = Configuration(stub.host, public_key=stub.public_key, private_key=stub.private_key)
    assert len(AnnotationDataset(config, 100)) == 4


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_pool_of_two_processes_gives_the_same_samples(stub: CytomineStub, method: str) -> None:
    dataset = AnnotationDataset(client(stub), 100, max_size=64)
    alone = list(dataset)  # the parent's connections are open, and kept, when the pool forks
    with multiprocessing.get_context(method).Pool(2) as pool:
        spread = pool.map(dataset.__getitem__, range(len(dataset)), chunksize=1)
    assert len(spread) == len(alone) and all(same(a, b) for a, b in zip(alone, spread, strict=True))
    assert same(dataset[3], alone[3])  # the parent's client still works after the children's use


def test_torch_dataloader_with_two_workers(stub: CytomineStub) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    from torch.utils.data import DataLoader

    dataset = AnnotationDataset(client(stub), 100, max_size=64)
    alone = list(dataset)
    loader = DataLoader(dataset, batch_size=None, num_workers=2, multiprocessing_context="spawn")
    seen = list(loader)
    assert len(seen) == len(alone)
    for sample, expected in zip(seen, alone, strict=True):
        assert isinstance(sample.image, torch.Tensor)
        assert np.array_equal(sample.image.numpy(), expected.image)
        assert np.array_equal(sample.mask.numpy(), expected.mask)
        assert (int(sample.label), int(sample.annotation)) == (expected.label, expected.annotation)


def test_tiles_with_label_masks(stub: CytomineStub, tmp_path: Path) -> None:
    # Image 200 is 46000 x 32914: tiles of 512 over (900, 32914 - 2100, 1300, 1200), where the
    # square 300 (1000-2000, term 20) and the unlabelled 302 lie.
    region = (900, 32914 - 2100, 1300, 1200)
    tiles = TileDataset(client(stub), [200], tile_size=512, region=region, cache=tmp_path)
    assert len(tiles) == 3 * 3 and tiles.windows[0] == (200, 900, 30814, 512, 512)
    assert tiles.windows[-1] == (200, 1924, 31838, 276, 176)
    assert tiles.classes[1] == "Tumour"
    first = tiles[0]
    assert first.image.shape == (512, 512) and first.image[0, 0] == (30814 + 900) % 251
    # Rows go down from y = 30814; the square's top edge (y up = 2000) is at row 2100 - 2000 = 100.
    assert first.mask.shape == (512, 512) and first.mask[99, 99] == 0
    assert first.mask[101, 101] == 1 and first.mask[300, 200] == 1 and first.mask[101, 99] == 0
    assert set(np.unique(tiles[4].mask)) <= {0, 1}
    # The last tile (x 1924-2200, rows 31838-32014) has the square's bottom-right corner (x 2000,
    # row 32914 - 1000 = 31914) in it.
    last = tiles[8].mask
    assert last[0, 0] == 1 and last[74, 74] == 1 and last[77, 77] == 0 and last[0, 78] == 0 and last[78, 0] == 0
    stub.clear_requests()
    again = TileDataset(client(stub), [200], tile_size=512, region=region, keep_partial=False, cache=tmp_path)
    assert len(again) == 4 and np.array_equal(again[0].image, first.image)
    assert not [r for r in stub.requests if "/window-" in r.path]
    plain = TileDataset(client(stub), [200], tile_size=512, region=region, masks=False)
    assert plain[0].mask is None and plain.classes == {0: None}
