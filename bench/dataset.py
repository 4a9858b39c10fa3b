"""The dataset row: annotation crops read through `datasets.AnnotationDataset` by 1, 4 and 8 processes.

    python bench/run.py dataset

The server: the stub (tests/support/stub.py) in its own process, answering every request 20 ms
late (outside its lock, so that requests overlap as on a real server, whose image server takes
that long to cut a crop), with N_CROPS annotations on one image and a 128 x 128 PNG for each crop.
A client builds the dataset (the listing, before the clock starts), then reads every sample
(crop decoded, mask drawn) through a `multiprocessing` pool of 1, 4 or 8 fork workers, each
holding the dataset (pool initializer) and opening its own connection; no cache. Crops per second,
medians of interleaved rounds; ratio = 4 workers / 1 worker, higher is better, target 3: the
20 ms of each request overlap across processes while each process's own work (request, PNG
decoding, mask drawing) stays well under them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script: `bench` importable from the working tree
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, interleaved, load_average, median, peak_mb, run_client, server_process

N_CROPS = 240
LATENCY_MS = 20
CROP_SIZE = 128
WORKERS = (1, 4, 8)
TARGET = 3.0
PROJECT, IMAGE = 500, 600

SERVER = """
import io, threading, time
import numpy
from PIL import Image
from tests.support.stub import CytomineStub, Response, StubAnnotation, StubImage, StubProject, now_ms

handle = CytomineStub.handle
def slow_handle(self, method, raw_target, headers, body):
    time.sleep({latency_ms} / 1000)  # outside the stub's lock: requests overlap
    return handle(self, method, raw_target, headers, body)
CytomineStub.handle = slow_handle

pixels = (numpy.add.outer(numpy.arange({size}), numpy.arange({size})) % 251).astype(numpy.uint8)
buffer = io.BytesIO()
Image.fromarray(numpy.stack([pixels] * 3, axis=-1)).save(buffer, format="PNG")
CROP = buffer.getvalue()

stub = CytomineStub("2026").start()
stub.add_route("GET", "/api/annotation/{{id}}/crop.{{format:str}}",
               lambda s, req: Response(200, CROP, {{"Content-Type": "image/png"}}))
with stub.state.lock:
    state = stub.state
    state.projects[{project}] = StubProject({project}, "bench: dataset", 10, now_ms(), users=[1], admins=[1])
    state.images[{image}] = StubImage({image}, {project}, 1, "bench-dataset.svs", 100000, 100000, now_ms())
    for n in range({n_crops}):
        x, y = 100 + (n % 50) * 1000, 100 + (n // 50) * 1000
        wkt = f"POLYGON (({{x}} {{y}}, {{x + 600}} {{y}}, {{x + 600}} {{y + 400}}, {{x}} {{y}}))"
        ident = 10000 + n
        state.annotations[ident] = StubAnnotation(ident, {image}, {project}, state.images[{image}].slice, 1, wkt,
                                                  now_ms(), terms=[20 + n % 3])
print(stub.host.rsplit(":", 1)[1], flush=True)
threading.Event().wait()
"""

CLIENT = """
import multiprocessing, time
from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.datasets import AnnotationDataset
from tests.support.stub import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY

api = ApiClient(Configuration({host!r}, public_key=DEFAULT_PUBLIC_KEY, private_key=DEFAULT_PRIVATE_KEY))
dataset = AnnotationDataset(api, {project}, max_size={size})
assert len(dataset) == {n_crops}

held = None
def hold(ds):
    global held
    held = ds

def load(index):
    sample = held[index]
    return sample.annotation, sample.image.shape, int(sample.mask.sum())

with multiprocessing.get_context("fork").Pool({workers}, initializer=hold, initargs=(dataset,)) as pool:
    pool.map(abs, range({workers}))  # the workers are up before the clock starts
    started = time.perf_counter()
    samples = pool.map(load, range(len(dataset)), chunksize=4)
    seconds = time.perf_counter() - started
assert [s[0] for s in samples] == [r.id for r in dataset.records]
assert all(s[1][:2] == ({size}, {size}) and s[2] > 0 for s in samples), samples[:3]
report(seconds=seconds)
"""


def run(args: Any) -> Row:
    """Crops/s with 1, 4 and 8 worker processes, interleaved over `args.rounds` rounds, medians."""
    server = SERVER.format(latency_ms=LATENCY_MS, size=CROP_SIZE, project=PROJECT, image=IMAGE, n_crops=N_CROPS)
    with server_process(server) as host:

        def client(workers: int) -> dict[str, Any]:
            code = CLIENT.format(host=host, project=PROJECT, size=CROP_SIZE, n_crops=N_CROPS, workers=workers)
            return run_client(code)

        clients = {str(w): (lambda w=w: client(w)) for w in WORKERS}
        results = interleaved(clients, args.rounds)
    speed = {w: N_CROPS / median(results[str(w)], "seconds") for w in WORKERS}
    ideal = 1000 / LATENCY_MS
    return Row(
        name=f"dataset {N_CROPS} crops x {LATENCY_MS} ms (crops/s)",
        baseline=speed[1],
        ours=speed[4],
        ratio=speed[4] / speed[1],
        target=TARGET,
        higher_is_better=True,
        note=(
            f"crops/s with 1/4/8 worker processes: {speed[1]:.0f} / {speed[4]:.0f} / {speed[8]:.0f} "
            f"(at best {ideal:.0f} per process); 8 / 1: {speed[8] / speed[1]:.2f}x; "
            f"client peak {peak_mb(results['8']):.0f} MB"
        ),
    )


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="annotation crops through AnnotationDataset, 1/4/8 processes")
    ap.add_argument("--rounds", type=int, default=3)
    row = run(ap.parse_args())
    print(f"{row.name}: 1 worker {row.baseline:.0f}, 4 workers {row.ours:.0f}, ratio {row.ratio:.2f}; "
          f"{row.note}; {load_average()}")
