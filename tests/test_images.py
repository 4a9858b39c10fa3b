"""Image regions: bytes, PIL and numpy; batches with a per-item report; tiles assembled."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.images import BatchError, annotation_crops, as_array, as_image, assemble, fetch_windows, grid

WIDTH, HEIGHT = 300, 200
# A synthetic slide: pixel value depends on position, so misplaced tiles are caught.
SLIDE = (np.add.outer(np.arange(HEIGHT), np.arange(WIDTH)) % 251).astype(np.uint8)


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def windows(fail: set[tuple[int, int]] | None = None) -> object:
    def handler(request: Request) -> Response:
        x, y, w, h = map(int, re.search(r"window-(\d+)-(\d+)-(\d+)-(\d+)", request.path).groups())  # type: ignore[union-attr]
        if (x, y) in (fail or set()):
            return Response(b'{"errors":{"message":"PIMS unavailable"}}', status=500, content_type="application/json")
        return Response(png(SLIDE[y : y + h, x : x + w]), content_type="image/png")
    return handler


@pytest.fixture
def api(httpserver: HTTPServer) -> ApiClient:
    return ApiClient(Configuration(httpserver.url_for(""), max_retries=0))


def test_one_region_as_bytes_image_and_array(httpserver: HTTPServer, api: ApiClient) -> None:
    httpserver.expect_request(re.compile(r"/api/imageinstance/7/window-.*")).respond_with_handler(windows())
    data = api.image_instance_api.download_window(7, 10, 20, 50, 40, "png")
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert as_image(data).size == (50, 40)
    assert (as_array(data) == SLIDE[20:60, 10:60]).all()


def test_grid_covers_the_region_exactly() -> None:
    tiles = grid((10, 20, 250, 130), 100)
    assert [(c, r) for c, r, *_ in tiles] == [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]
    assert tiles[2] == (2, 0, 210, 20, 50, 100) and tiles[-1] == (2, 1, 210, 120, 50, 30)
    assert sum(w * h for *_, w, h in tiles) == 250 * 130
    with pytest.raises(ValueError, match="tile_size"):
        grid((0, 0, 10, 10), 0)


def test_windows_assembled_into_one_array(httpserver: HTTPServer, api: ApiClient, tmp_path: Path) -> None:
    httpserver.expect_request(re.compile(r"/api/imageinstance/7/window-.*")).respond_with_handler(windows())
    seen: list[int] = []
    report = fetch_windows(api, 7, region=(0, 0, WIDTH, HEIGHT), tile_size=64, workers=4,
                           on_progress=lambda done, total: seen.append(done))
    assert report.ok and len(report.results) == 5 * 4 and seen[-1] == 20
    assert (assemble(report) == SLIDE).all()
    on_disk = fetch_windows(api, 7, region=(32, 16, 100, 90), tile_size=50, dest=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir())[0] == "0-0.png"
    assert (assemble(on_disk) == SLIDE[16:106, 32:132]).all()


def test_failures_are_reported_not_dropped(httpserver: HTTPServer, api: ApiClient) -> None:
    httpserver.expect_request(re.compile(r"/api/imageinstance/7/window-.*")).respond_with_handler(
        windows(fail={(64, 0), (128, 128)}))
    report = fetch_windows(api, 7, region=(0, 0, WIDTH, HEIGHT), tile_size=64)
    assert set(report.failed) == {(1, 0), (2, 2)}
    assert all("PIMS unavailable" in reason for reason in report.failed.values())
    assert len(report.results) == 18
    with pytest.raises(BatchError, match="2 of 20 failed"):
        assemble(report)


def test_annotation_crops(httpserver: HTTPServer, api: ApiClient, tmp_path: Path) -> None:
    httpserver.expect_request(re.compile(r"/api/annotation/\d+/crop.png")).respond_with_handler(
        lambda r: Response(png(SLIDE[:10, :10]), content_type="image/png") if "404" not in r.path
        else Response(b'{"errors":{"message":"Annotation not found"}}', status=404, content_type="application/json"))
    report = annotation_crops(api, [101, 102, 404], max_size=128, dest=tmp_path)
    assert sorted(report.results) == [101, 102] and report.failed[404].startswith("NotFoundError")
    assert (tmp_path / "101.png").read_bytes()[:4] == b"\x89PNG"
    request, _ = httpserver.log[0]
    assert request.args["maxSize"] == "128"
    with pytest.raises(ValueError, match=r"annotation_ids\[0\]"):
        annotation_crops(api, ["101"])  # type: ignore[list-item]


@pytest.mark.parametrize(("workers", "pool_maxsize", "expected"), [(8, 10, 8), (8, 3, 3)])
def test_windows_overlap_over_kept_connections(workers: int, pool_maxsize: int, expected: int) -> None:
    import threading
    import time

    from tests.support.fault_server import Exchange, FaultServer

    lock = threading.Lock()
    in_flight = [0, 0]  # now, most at once

    def slow_tile(ex: Exchange) -> None:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        time.sleep(0.05)  # an image server's latency: what the workers are there to overlap
        with lock:
            in_flight[0] -= 1
        ex.respond(200, b"\x89PNG\r\n\x1a\n", content_type="image/png")

    with FaultServer(slow_tile) as server:
        api = ApiClient(Configuration(server.url, max_retries=0, pool_maxsize=pool_maxsize))
        report = fetch_windows(api, 7, region=(0, 0, 8 * 64, 4 * 64), tile_size=64, workers=workers)
        assert report.ok and len(report.results) == 32
        # As many requests at once as the pool keeps connections, each connection kept for the
        # whole batch: no worker waits for another, none opens and drops a connection per tile.
        assert in_flight[1] == expected and server.connections == expected
