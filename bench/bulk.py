"""The bulk row: 10k annotations created on the local stub, served in its own process.

    python bench/run.py bulk            # the row: raw urllib3 vs the SDK's defaults
    python bench/bulk.py --sweep        # the SDK's chunk size x workers, to choose the defaults

Raw: what a hand-written client does at its fastest: the items as JSON arrays of 1000, posted
one after the other on one connection, signed like the SDK signs for the stub (2026 rule), each
answer parsed with json. SDK: `create_annotations(api, items)` with its default chunk size and
workers, then the report checked (every item created, with its id). Both post the same 10k
polygons (12 vertices, a term) to `POST /api/annotation.json` of a fresh image of a fresh project.
Items per second; ratio = SDK / raw, higher is better.

The server: the stub with TCP_NODELAY (as production servers answer) and 0.4 ms of work per item
created, outside its lock, so several requests proceed at once as on a real server, whose database
work on each item goes on in parallel for several requests. 0.4 ms is what the issue measured
(raw: 2397 items/s in chunks of 1000); the stub itself takes ~8 us an item, far less than any real
server. The note also gives the ratio against the bare stub (no per-item work): there the SDK's own
work before its first request (importing shapely, reading every geometry with it: 0.1-0.3 s) is
what raw does not do, and what decides.
`--sweep --item-ms 1` measures chunk sizes x workers against a slower server; `--sweep --item-ms 0`
the client's own cost alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script: `bench` importable from the working tree
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, interleaved, load_average, median, peak_mb, run_client, server_process

N_ITEMS = 10_000
RAW_CHUNK = 1000
PROJECT, IMAGE, TERM = 500, 600, 20

# The stub (cytomine_sdk.testing) on a free port, with a fresh project and image of its own.
# `nodelay`: answers with TCP_NODELAY (the stub's default now; False shows the ~40 ms a request
# that Nagle and delayed ACKs cost without it). `item_ms`: a bulk request also takes that long per
# item, outside the stub's lock, as a real server's work on items (database included) goes on for
# several requests at once.
STUB_SERVER = """
import threading, time
from cytomine_sdk.testing import _server as stub_module  # the handler class: bench-only switch
from tests.support.stub import CytomineStub, StubImage, StubProject, now_ms
stub_module._StubRequestHandler.disable_nagle_algorithm = {nodelay}
if {item_ms}:
    handle = CytomineStub.handle
    def slow_handle(self, method, raw_target, headers, body):
        if method == "POST" and raw_target.startswith("/api/annotation.json"):
            time.sleep({item_ms} / 1000 * body.count(b'"location"'))
        return handle(self, method, raw_target, headers, body)
    CytomineStub.handle = slow_handle
stub = CytomineStub("2026").start()
with stub.state.lock:
    stub.state.projects[{project}] = StubProject({project}, "bench: bulk", 10, now_ms(), users=[1], admins=[1])
    stub.state.images[{image}] = StubImage({image}, {project}, 1, "bench-bulk.svs", 100000, 100000, now_ms())
print(stub.host.rsplit(":", 1)[1], flush=True)
threading.Event().wait()
"""


# A real server's work per item created (see the module docstring).
ITEM_MS = 0.4


def _server(nodelay: bool = True, item_ms: float = ITEM_MS) -> str:
    return STUB_SERVER.format(nodelay=nodelay, item_ms=item_ms, project=PROJECT, image=IMAGE)


# The same items in every client: 12-vertex polygons (closed, valid) across the image.
ITEMS = """
import math
def polygon(i):
    x, y = 50 + (i % 300) * 300, 50 + (i // 300) * 300
    ring = [(x + round(100 * math.cos(k * math.pi / 6), 2), y + round(100 * math.sin(k * math.pi / 6), 2))
            for k in range(12)]
    ring.append(ring[0])
    return "POLYGON ((" + ", ".join("%s %s" % point for point in ring) + "))"
LOCATIONS = [polygon(i) for i in range({n_items})]
"""

RAW_CLIENT = ITEMS + """
import base64, hmac, json, time
from email.utils import formatdate
import urllib3
from tests.support.stub import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY

host = {host!r}
pool = urllib3.HTTPConnectionPool(host.split("//")[1].split(":")[0], int(host.rsplit(":", 1)[1]), maxsize=1)
key = DEFAULT_PRIVATE_KEY.encode()

def headers(method, content_type):
    date = formatdate(usegmt=True)  # the 2026 rule: no path in the signed text
    digest = hmac.digest(key, f"{{method}}\\n\\n{{content_type}}\\n{{date}}".encode(), "sha1")
    signature = base64.b64encode(digest).decode()
    out = {{"date": date, "Authorization": f"CYTOMINE {{DEFAULT_PUBLIC_KEY}}:{{signature}}",
            "Accept": "application/json"}}
    if content_type:
        out["Content-Type"] = content_type
    return out

# The connection is open before the clock starts, as the SDK's is (its warm-up call).
assert pool.request("GET", "/api/imageinstance/{image}.json", headers=headers("GET", "")).status == 200
started = time.perf_counter()
items = [{{"location": loc, "image": {image}, "term": [{term}]}} for loc in LOCATIONS]
created = 0
for start in range(0, len(items), {chunk}):
    body = json.dumps(items[start:start + {chunk}]).encode()
    answer = pool.request("POST", "/api/annotation.json", body=body, headers=headers("POST", "application/json"))
    data = json.loads(answer.data)["data"]
    assert answer.status == 200 and "errors" not in data, answer.data[:300]
    created += len(data["message"].split(" ", 2)[1].split(","))
elapsed = time.perf_counter() - started
assert created == len(items), created
report(seconds=elapsed)
"""

SDK_CLIENT = ITEMS + """
import time
from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.bulk import DEFAULT_CHUNK_SIZE, DEFAULT_WORKERS, NewAnnotation, create_annotations
from tests.support.stub import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY

api = ApiClient(Configuration({host!r}, public_key=DEFAULT_PUBLIC_KEY, private_key=DEFAULT_PRIVATE_KEY))
api.image_instance_api.retrieve({image})  # a connection open, as the raw client's is
options = {options}
started = time.perf_counter()
items = [NewAnnotation(loc, image={image}, terms=[{term}]) for loc in LOCATIONS]
result = create_annotations(api, items, **options)
elapsed = time.perf_counter() - started
assert result.ok and len(result.created) == len(items), (len(result.created), result.failed[:1], result.unknown[:1])
assert [c.index for c in result.created] == list(range(len(items))) and None not in result.ids
report(seconds=elapsed, chunk_size=options.get("chunk_size", DEFAULT_CHUNK_SIZE),
       workers=options.get("workers", DEFAULT_WORKERS))
"""


def _clients(host: str, sdk_options: dict[str, Any] | None = None) -> dict[str, Any]:
    values = {"n_items": N_ITEMS, "host": host, "image": IMAGE, "term": TERM, "chunk": RAW_CHUNK,
              "options": sdk_options or {}}
    return {
        "raw": lambda: run_client(RAW_CLIENT.format(**values)),
        "sdk": lambda: run_client(SDK_CLIENT.format(**values)),
    }


def run(args: argparse.Namespace) -> Row:
    """Raw urllib3 vs the SDK's defaults, interleaved over `args.rounds` rounds, medians; against a
    server working 0.4 ms per item, and (in the note) against the bare stub."""
    with server_process(_server()) as host:
        results = interleaved(_clients(host), args.rounds)
    with server_process(_server(item_ms=0)) as host:
        bare = interleaved(_clients(host), args.rounds)
    raw = N_ITEMS / median(results["raw"], "seconds")
    sdk = N_ITEMS / median(results["sdk"], "seconds")
    bare_raw = N_ITEMS / median(bare["raw"], "seconds")
    bare_sdk = N_ITEMS / median(bare["sdk"], "seconds")
    runs = ", ".join(f"{N_ITEMS / r['seconds']:.0f}" for r in results["sdk"])
    raw_runs = ", ".join(f"{N_ITEMS / r['seconds']:.0f}" for r in results["raw"])
    defaults = results["sdk"][0]
    return Row(f"bulk {N_ITEMS // 1000}k annotations (items/s)", raw, sdk, sdk / raw, 1.0, higher_is_better=True,
               note=f"server {ITEM_MS} ms/item; SDK runs {runs} (chunks of {defaults['chunk_size']}, "
                    f"{defaults['workers']} workers); raw runs {raw_runs} (chunks of {RAW_CHUNK}, one connection); "
                    f"bare stub: SDK {bare_sdk:.0f} vs raw {bare_raw:.0f} ({bare_sdk / bare_raw:.2f}x); "
                    f"peak {peak_mb(results['sdk']):.0f} MB vs {peak_mb(results['raw']):.0f} MB")


def sweep(rounds: int, chunks: list[int], workers: list[int], nodelay: bool, item_ms: float) -> None:
    """Print the SDK's items/s for each chunk size x workers (medians of `rounds`), raw alongside."""
    with server_process(_server(nodelay, item_ms)) as host:
        clients: dict[str, Any] = {"raw": _clients(host)["raw"]}
        for chunk in chunks:
            for count in workers:
                clients[f"{chunk}x{count}"] = _clients(host, {"chunk_size": chunk, "workers": count})["sdk"]
        results = interleaved(clients, rounds)
    print(f"items/s, medians of {rounds} interleaved rounds; stub {'with' if nodelay else 'without'} "
          f"TCP_NODELAY, {item_ms} ms more per item; {load_average()}")
    print(f"raw (chunks of {RAW_CHUNK}, one connection): {N_ITEMS / median(results['raw'], 'seconds'):.0f}")
    print("chunk \\ workers " + "".join(f"{count:>8}" for count in workers))
    for chunk in chunks:
        cells = "".join(f"{N_ITEMS / median(results[f'{chunk}x{count}'], 'seconds'):8.0f}" for count in workers)
        print(f"{chunk:>15} {cells}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="the SDK's bulk create: chunk size x workers against the stub")
    ap.add_argument("--sweep", action="store_true", help="measure chunk sizes x workers (else: the row)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunks", type=int, nargs="*", default=[100, 250, 500, 1000])
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    ap.add_argument("--delay", action="store_true", help="sweep: the stub answers without TCP_NODELAY")
    ap.add_argument("--item-ms", type=float, default=ITEM_MS, help="sweep: ms more per item created, outside the lock")
    parsed = ap.parse_args()
    if parsed.sweep:
        sweep(parsed.rounds, parsed.chunks, parsed.workers, not parsed.delay, parsed.item_ms)
    else:
        row = run(parsed)
        print(f"{row.name}: raw {row.baseline:.0f}, SDK {row.ours:.0f}, ratio {row.ratio:.2f}; {row.note}; "
              f"{load_average()}")
