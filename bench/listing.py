"""The listing row: 100k annotation rows (~88 MB of JSON) become objects, the SDK vs raw urllib3.

The baseline is what a urllib3 user writes: ``pool.request("GET", url)`` then
``json.loads(resp.data)["collection"]``: plain dicts, untyped. The SDK answers typed models
(`AnnotationListing`, dates as datetimes, `userByTerm` as nested models), kept lenient.

Both ask for the same single answer: ``annotation_api.list(max=100000, offset=0)``, the legacy
max/offset paging asking for every row at once, sent by the raw client as the same URL. One request
each, so the row compares turning one 88 MB answer into objects, not the number of round trips (by
default the SDK would fetch 100 pages of 1000 lazily, which holds one page in memory at a time: a
different trade). Neither client signs its request: the server checks nothing, and a signature
costs microseconds against a second of parsing.

The rows are those of the default column groups of `GET /api/annotation.json` (basic, meta, WKT,
term: spec/inventory/fields.tsv), with polygons of 5 to 17 vertices, built once with a fixed
seed by the server, which runs in its own process and sends the pre-encoded answer in one write so
that it does not bound the clients.

Targets: the SDK's time <= 1.0x the baseline's, its peak RSS <= 1.3x (each client runs in a fresh
interpreter; the peak is the largest of its runs).
"""

from __future__ import annotations

import json
import random
from typing import Any

from bench.common import Row, interleaved, median, peak_mb, run_client, server_process

ROWS = 100_000
TARGET = 1.0
MEMORY_TARGET = 1.3
PATH = "/api/annotation.json"
HOST = "https://cytomine.example.org"


def listing_row(i: int, rng: random.Random) -> dict[str, Any]:
    """Row `i` of the listing as a 2025/2026 core answers it with the default column groups."""
    annotation, image, term = 5_000_000 + i, 1000 + i % 50, rng.randint(100, 120)
    cx, cy = rng.uniform(1000, 90000), rng.uniform(1000, 90000)
    ring = [f"{cx + rng.uniform(-300, 300):.2f} {cy + rng.uniform(-300, 300):.2f}" for _ in range(rng.randint(5, 17))]
    crop = f"{HOST}/api/userannotation/{annotation}/crop.png"
    return {
        "class": "be.cytomine.domain.ontology.UserAnnotation", "id": annotation,
        "created": 1_718_000_000_000 + i * 1000, "updated": None,
        "image": image, "slice": image + 100_000, "project": 42, "user": 17,
        "nbComments": 0, "countReviewedAnnotations": 0, "reviewed": False,
        "cropURL": crop, "smallCropURL": f"{crop}?maxSize=256", "url": crop,
        "imageURL": f"{HOST}/#/project/42/image/{image}/annotation/{annotation}",
        "location": f"POLYGON (({', '.join([*ring, ring[0]])}))", "geometryCompression": 0.0,
        "term": [term], "userByTerm": [{"id": 9_000_000 + i, "term": term, "user": [17]}],
    }


def listing_body(rows: int = ROWS) -> bytes:
    """The whole listing as one page of the legacy envelope, as compact as the servers send it."""
    rng = random.Random(14)
    page = {"collection": [listing_row(i, rng) for i in range(rows)], "offset": 0, "perPage": rows,
            "size": rows, "totalPages": 1}
    return json.dumps(page, separators=(",", ":")).encode()


SERVER = """
from http.server import BaseHTTPRequestHandler, HTTPServer
from bench.listing import listing_body

BODY = listing_body({rows})

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = BODY if self.path.split("?")[0] == {path!r} else b'{{"message": "not found"}}'
        self.send_response(200 if body is BODY else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)  # unbuffered: one sendall of the pre-encoded answer

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""

RAW = """
import json, time, urllib3
pool = urllib3.PoolManager()
started = time.perf_counter()
resp = pool.request("GET", {url!r}, headers={{"Accept": "application/json"}})
rows = json.loads(resp.data)["collection"]
seconds = time.perf_counter() - started
assert len(rows) == {rows} and rows[-1]["location"].startswith("POLYGON")
report(seconds=seconds, bytes=len(resp.data))
"""

SDK = """
import time
from datetime import datetime
from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.models import AnnotationListing
api = ApiClient(Configuration({host!r})).annotation_api
started = time.perf_counter()
rows = list(api.list(max={rows}, offset=0))
seconds = time.perf_counter() - started
last = rows[-1]
assert len(rows) == {rows} and isinstance(last, AnnotationListing) and last.location.startswith("POLYGON")
assert isinstance(last.created, datetime) and last.user_by_term[0].user == [17]
report(seconds=seconds)
"""


def run(args: Any) -> Row:
    with server_process(SERVER.format(rows=ROWS, path=PATH)) as host:
        url = f"{host}{PATH}?max={ROWS}&offset=0"
        results = interleaved({
            "raw": lambda: run_client(RAW.format(url=url, rows=ROWS)),
            "sdk": lambda: run_client(SDK.format(host=host, rows=ROWS)),
        }, args.rounds)
    base, ours = median(results["raw"], "seconds"), median(results["sdk"], "seconds")
    raw_peak, sdk_peak = peak_mb(results["raw"]), peak_mb(results["sdk"])
    size = results["raw"][0]["bytes"] / 1e6
    runs = {k: "/".join(f"{r['seconds']:.2f}" for r in v) for k, v in results.items()}
    return Row(
        name=f"listing {ROWS // 1000}k annotations",
        baseline=base,
        ours=ours,
        ratio=ours / base,
        target=TARGET,
        note=(
            f"{size:.0f} MB; raw {base:.2f} s (runs {runs['raw']}), peak {raw_peak:.0f} MB; "
            f"SDK {ours:.2f} s (runs {runs['sdk']}), peak {sdk_peak:.0f} MB ({sdk_peak / raw_peak:.2f}x)"
        ),
        checks=[(f"memory <= {MEMORY_TARGET}x raw", sdk_peak <= MEMORY_TARGET * raw_peak)],
    )
