"""Benchmarks of the targets, each a ratio against a baseline measured in the same run.

    make bench                 # all
    python bench/run.py import get parse download --download-size 2GiB

- import:   `import cytomine_sdk` vs importing its dependencies (urllib3, pydantic, dateutil);
            target <= 1.3x.
- get:      a signed GET parsed into a model vs raw urllib3 + json.loads, same local server;
            target <= 1.0x (no overhead left: issue "Own the generated API surface").
- parse:    100k annotations (listing rows with WKT) parsed into models vs json.loads;
            target <= 1.5x.
- download: a 2 GiB file streamed to disk vs curl from the same local server: speed >= 0.9x
            curl's, peak memory (RSS) < 80 MB.
- first-use: a fresh interpreter imports the SDK, builds a client and makes its first call on
            each of the 5 services with the most operations, vs `import urllib3, pydantic`;
            target <= 1.5x.
Results are printed as a table; `--strict` makes a missed target exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable


def _median_seconds(code: str, runs: int) -> float:
    """Median wall time of `code` in a new interpreter, after a warm-up run. Byte-code caching is
    on, as in any installed package (PYTHONDONTWRITEBYTECODE would make every run compile the
    SDK's sources while the dependencies' caches exist: not what users run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([PY, "-c", code], check=True, env=env)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([PY, "-c", code], check=True, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_import(runs: int = 15) -> dict[str, Any]:
    base = _median_seconds("import urllib3, pydantic, dateutil", runs)
    ours = _median_seconds("import cytomine_sdk", runs)
    client = _median_seconds("from cytomine_sdk import ApiClient, Configuration", runs)
    return {"name": "import cytomine_sdk", "baseline": base, "ours": ours, "ratio": ours / base, "target": 1.3,
            "note": f"from cytomine_sdk import ApiClient: {client / base:.2f}x"}


class _JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else delayed ACKs add 40 ms to every keep-alive request
    body = json.dumps({"id": 42, "name": "Lung", "ontology": 7, "created": "1718000000000",
                       "class": "be.cytomine.domain.project.Project", "numberOfImages": 12}).encode()

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


SERVER_CODE = """
import sys
sys.path.insert(0, {root!r})
from http.server import ThreadingHTTPServer
from bench.run import _JsonHandler
server = ThreadingHTTPServer(("127.0.0.1", 0), _JsonHandler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def bench_get(requests: int = 3000) -> dict[str, Any]:
    import urllib3

    from cytomine_sdk import ApiClient, Configuration

    # The server runs in its own process, as a real one would: in this process it would compete
    # with the client for the GIL and blur the client's own cost.
    server = subprocess.Popen([PY, "-c", SERVER_CODE.format(root=str(ROOT))], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        host = f"http://127.0.0.1:{int(server.stdout.readline())}"
        pool = urllib3.PoolManager()
        api = ApiClient(Configuration(host, public_key="pub", private_key="priv", signature="2026"))

        def raw() -> None:
            json.loads(pool.request("GET", host + "/api/project/42.json").data)

        def sdk() -> None:
            api.project_api.retrieve(42)

        for f in (raw, sdk):  # warm up connections and caches
            for _ in range(200):
                f()
        timings: dict[str, list[float]] = {"raw": [], "sdk": []}
        for _ in range(5):  # interleaved rounds, so machine noise hits both
            for name, f in (("raw", raw), ("sdk", sdk)):
                started = time.perf_counter()
                for _ in range(requests // 5):
                    f()
                timings[name].append(time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait()
    base, ours = statistics.median(timings["raw"]), statistics.median(timings["sdk"])
    return {"name": "signed GET + model", "baseline": base, "ours": ours, "ratio": ours / base, "target": 1.0,
            "note": f"{ours / (requests // 5) * 1e6:.0f} us per call"}


FIRST_USE_CODE = """
import sys
sys.path[:0] = {paths!r}
from cytomine_sdk import ApiClient, Configuration
api = ApiClient(Configuration({host!r}, public_key="pub", private_key="priv", signature="2026"))
{calls}
"""


def _first_calls() -> list[str]:
    """A first call on each of the 5 largest services: a GET of one object by id."""
    from collections import Counter

    from cytomine_sdk_gen.operations import OPERATIONS

    sizes = Counter(op.service for op in OPERATIONS.values())
    calls = []
    for service, _ in sizes.most_common(5):
        candidates = [
            op for op in sorted(OPERATIONS.values(), key=lambda o: (o.verb != "retrieve", o.id))
            if op.service == service and op.method == "GET" and op.returns not in (None, "bytes", "str")
            and [p.kind for p in op.params if p.required] == ["int"] and op.item is None and op.result is None
            and not (op.returns or "").startswith(("list", "dict", "object"))
        ]
        op = candidates[0]
        calls.append(f"api.{service}.{op.verb}(42)")
    return calls


def bench_first_use(runs: int = 9) -> dict[str, Any]:
    server = subprocess.Popen([PY, "-c", SERVER_CODE.format(root=str(ROOT))], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        host = f"http://127.0.0.1:{int(server.stdout.readline())}"
        calls = _first_calls()
        code = FIRST_USE_CODE.format(paths=[str(ROOT / "sdk_core"), str(ROOT / "sdk")], host=host,
                                     calls="\n".join(calls))
        base = _median_seconds("import urllib3, pydantic", runs)
        ours = _median_seconds(code, runs)
    finally:
        server.terminate()
        server.wait()
    return {"name": "first use (5 services)", "baseline": base, "ours": ours, "ratio": ours / base, "target": 1.5,
            "note": ", ".join(c.split(".")[1] for c in calls)}


def _listing(n: int) -> bytes:
    rows = [
        {"id": 100000 + i, "class": "be.cytomine.domain.ontology.UserAnnotation", "created": 1718000000000.0 + i,
         "updated": None, "image": 200 + i % 7, "slice": 300, "project": 100, "user": 1, "nbComments": 0,
         "countReviewedAnnotations": 0, "reviewed": False, "term": [20 + i % 3], "userByTerm": [],
         "location": f"POLYGON (({i} {i}, {i + 50} {i}, {i + 50} {i + 40}, {i} {i + 40}, {i} {i}))"}
        for i in range(n)
    ]
    return json.dumps({"collection": rows, "offset": 0, "perPage": n, "size": n, "totalPages": 1}).encode()


def bench_parse(n: int = 100_000) -> dict[str, Any]:
    from cytomine_sdk.models import AnnotationListingCollection
    from cytomine_sdk.parsing import parse_model

    raw = _listing(n)
    base = min(_timed(lambda: json.loads(raw)) for _ in range(3))
    ours = min(_timed(lambda: parse_model(AnnotationListingCollection, raw)) for _ in range(3))
    return {"name": f"parse {n // 1000}k annotations", "baseline": base, "ours": ours, "ratio": ours / base,
            "target": 1.5, "note": f"{len(raw) / 1e6:.0f} MB of JSON"}


def _timed(f: Any) -> float:
    started = time.perf_counter()
    f()
    return time.perf_counter() - started


DOWNLOAD_CODE = """
import resource, sys, time
sys.path.insert(0, {root!r})
from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.downloads import download_url
api = ApiClient(Configuration({host!r}))
started = time.perf_counter()
download_url(api, "/api/abstractimage/1/download", dest={dest!r}, overwrite=True)
elapsed = time.perf_counter() - started
# The peak of this program's own memory: VmHWM starts again at exec, while ru_maxrss keeps the
# peak of the forked parent (a bench process that just parsed 100k annotations: ~380 MB).
try:
    peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(elapsed, peak)
"""


def bench_download(size: int, rounds: int = 2) -> dict[str, Any]:
    from tests.support.file_server import FileServer

    with FileServer(size=size, chunk=1 << 20) as server, tempfile.TemporaryDirectory(dir=ROOT) as tmp:
        dest = str(Path(tmp) / "slide.bin")
        url = server.url + "/api/abstractimage/1/download"

        def curl() -> float:
            started = time.perf_counter()
            subprocess.run(["curl", "-s", "-o", dest, url], check=True)
            return time.perf_counter() - started

        def sdk() -> tuple[float, int]:
            code = DOWNLOAD_CODE.format(root=str(ROOT / "sdk_core"), host=server.url, dest=dest)
            out = subprocess.run([PY, "-c", code], check=True, capture_output=True, text=True).stdout.split()
            return float(out[0]), int(out[1])

        curl_times, sdk_times, peak_kb = [], [], 0
        for _ in range(rounds):  # alternate, each after the previous file is gone and flushed
            for tool in ("sdk", "curl"):
                if os.path.exists(dest):
                    os.remove(dest)
                subprocess.run(["sync"], check=False)
                if tool == "curl":
                    curl_times.append(curl())
                else:
                    seconds, rss = sdk()
                    sdk_times.append(seconds)
                    peak_kb = max(peak_kb, rss)
                assert os.path.getsize(dest) == size
    base, ours = min(curl_times), min(sdk_times)
    speed = base / ours  # >= 0.9 means at least 90 % of curl's speed
    return {"name": f"download {size / 2**30:.1f} GiB", "baseline": base, "ours": ours, "ratio": speed,
            "target": 0.9, "higher_is_better": True,
            "note": f"{size / ours / 2**20:.0f} MiB/s; peak RSS {peak_kb / 1024:.0f} MB (target < 80)",
            "memory_ok": peak_kb / 1024 < 80}


def _size(text: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.lower().rstrip("ib").rstrip("b")
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", nargs="*", default=["import", "first-use", "get", "parse", "download"])
    ap.add_argument("--download-size", default="2GiB")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()
    runs = {"import": bench_import, "first-use": bench_first_use, "get": bench_get, "parse": bench_parse,
            "download": lambda: bench_download(_size(args.download_size))}
    missed = 0
    print(f"{'benchmark':28} {'baseline s':>11} {'ours s':>9} {'ratio':>7} {'target':>8}  result")
    for name in args.which:
        r = runs[name]()
        better = r.get("higher_is_better", False)
        ok = (r["ratio"] >= r["target"]) if better else (r["ratio"] <= r["target"])
        ok = ok and r.get("memory_ok", True)
        missed += not ok
        target = f"{'>=' if better else '<='}{r['target']}"
        print(f"{r['name']:28} {r['baseline']:11.3f} {r['ours']:9.3f} {r['ratio']:7.2f} {target:>8}  "
              f"{'ok' if ok else 'MISSED'}  {r['note']}", flush=True)
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
