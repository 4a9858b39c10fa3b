"""The tiles row: 1000 image windows through `images.fetch_windows`, one worker vs eight.

The server runs in its own process, a thread per connection, and answers each
``GET /api/imageinstance/{id}/window-{x}-{y}-{w}-{h}.png`` after 20 ms (what an image server
spends cutting a tile) with a small PNG-like body. Sequentially the batch costs 1000 x 20 ms plus
the client's own work; eight workers over the client's pool (pool_maxsize 10 by default, so every
worker keeps its connection) can at best divide that by 8. The ratio is sequential time / 8-worker
time, higher is better, target 6.
"""

from __future__ import annotations

from typing import Any

from bench.common import Row, interleaved, median, peak_mb, run_client, server_process

TILES = (40, 25)  # columns x rows: 1000 windows
TILE = 256
LATENCY = 0.02
WORKERS = 8
TARGET = 6.0
BLOCKS = 16  # the body: an 8-byte PNG signature and BLOCKS x 256 bytes

SERVER = """
import re, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b"\\x89PNG\\r\\n\\x1a\\n" + bytes(range(256)) * {blocks}  # a PNG signature, then the tile
WINDOW = re.compile(r"/api/imageinstance/\\d+/window-\\d+-\\d+-\\d+-\\d+\\.png")

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else delayed ACKs add 40 ms to keep-alive answers

    def log_message(self, *args):
        pass

    def do_GET(self):
        if not WINDOW.fullmatch(self.path.split("?")[0]):
            self.send_error(404)
            return
        time.sleep({latency})
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""

CLIENT = """
import time
from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.images import fetch_windows
api = ApiClient(Configuration({host!r}, public_key="pub", private_key="priv", signature="2026"))
started = time.perf_counter()
report_ = fetch_windows(api, 7, region=(0, 0, {width}, {height}), tile_size={tile}, workers={workers})
seconds = time.perf_counter() - started
assert report_.ok and len(report_.results) == {count}, report_.failed
assert all(len(v) == {body} for v in report_.results.values())
report(seconds=seconds)
"""


def run(args: Any) -> Row:
    columns, rows = TILES
    count = columns * rows
    with server_process(SERVER.format(latency=LATENCY, blocks=BLOCKS)) as host:

        def client(workers: int) -> dict[str, Any]:
            code = CLIENT.format(
                host=host, width=columns * TILE, height=rows * TILE, tile=TILE, workers=workers, count=count,
                body=8 + 256 * BLOCKS,
            )
            return run_client(code)

        results = interleaved({"sequential": lambda: client(1), "workers": lambda: client(WORKERS)}, args.rounds)
    base, ours = median(results["sequential"], "seconds"), median(results["workers"], "seconds")
    ideal = count * LATENCY / WORKERS
    return Row(
        name=f"tiles {count} x {LATENCY * 1000:.0f} ms, {WORKERS} workers",
        baseline=base,
        ours=ours,
        ratio=base / ours,
        target=TARGET,
        higher_is_better=True,
        note=(
            f"sequential {base / count * 1000:.1f} ms/tile; {WORKERS} workers {ours:.2f} s "
            f"(at best {ideal:.2f} s); peak {peak_mb(results['workers']):.0f} MB"
        ),
    )
