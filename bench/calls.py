"""Rows about calls: importing the SDK, its first use, and signed GETs parsed into a model."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from collections import Counter

from bench.common import PATHS, PY, Row, clean_env, run_client, server_process

# A static server in its own process answering every GET with a project, as a GET by id does.
# Raw sockets, a thread per connection and one canned answer: a few microseconds per request, as a
# static nginx would be, so the clients' own costs decide the row (http.server takes ~100 us).
JSON_SERVER = """
import json, socket, threading

BODY = json.dumps({"id": 42, "name": "Lung", "ontology": 7, "created": "1718000000000",
                   "class": "be.cytomine.domain.project.Project", "numberOfImages": 12}).encode()
ANSWER = (b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: "
          + str(len(BODY)).encode() + b"\\r\\n\\r\\n" + BODY)

def serve(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending = b""
    with conn:
        while True:
            while b"\\r\\n\\r\\n" not in pending:  # requests without a body: GETs only
                data = conn.recv(65536)
                if not data:
                    return
                pending += data
            _, pending = pending.split(b"\\r\\n\\r\\n", 1)
            conn.sendall(ANSWER)

listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"""


def _median_seconds(code: str, runs: int) -> float:
    """Median wall time of `code` in a new interpreter, after a warm-up run."""
    env = clean_env()
    program = f"import sys\nsys.path[:0] = {PATHS!r}\n{code}"
    subprocess.run([PY, "-c", program], check=True, env=env)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([PY, "-c", program], check=True, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_import(args: argparse.Namespace) -> Row:
    runs = 15
    base = _median_seconds("import urllib3, pydantic", runs)
    ours = _median_seconds("import cytomine_sdk", runs)
    client = _median_seconds("from cytomine_sdk import ApiClient, Configuration", runs)
    return Row("import cytomine_sdk", base, ours, ours / base, 1.3,
               note=f"s; from cytomine_sdk import ApiClient: {client / base:.2f}x")


def _first_calls() -> list[str]:
    """A first call on each of the 5 services with the most operations: a GET of one object."""
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
        calls.append(f"api.{service}.{candidates[0].verb}(42)")
    return calls


FIRST_USE = """
from cytomine_sdk import ApiClient, Configuration
api = ApiClient(Configuration({host!r}, public_key="pub", private_key="priv", signature="2026"))
{calls}
"""


def run_first_use(args: argparse.Namespace) -> Row:
    runs = 11
    with server_process(JSON_SERVER) as host:
        calls = _first_calls()
        base = _median_seconds("import urllib3, pydantic", runs)
        ours = _median_seconds(FIRST_USE.format(host=host, calls="\n".join(calls)), runs)
        # What pydantic alone costs before any SDK code: one model with a datetime field, built
        # and used. Not a target; it shows how much of the ratio is the SDK's.
        floor = _median_seconds(PYDANTIC_FLOOR, runs)
    return Row("first use (5 services)", base, ours, ours / base, 1.5,
               note=f"s; {', '.join(c.split('.')[1] for c in calls)}; "
                    f"one pydantic model alone: {floor / base:.2f}x")


PYDANTIC_FLOOR = """
import urllib3, pydantic, http.client
from datetime import datetime
from typing import Optional
from pydantic import BaseModel, Field
class Floor(BaseModel):
    id: Optional[int] = Field(default=None, alias="Id")
    created: Optional[datetime] = None
Floor.model_validate_json(b'{"Id": 1}')
"""

GET_CLIENTS = """
import base64, hmac, json, statistics, time
from email.utils import formatdate
import urllib3
from cytomine_sdk import ApiClient, Configuration

host, calls, rounds = {host!r}, {calls}, {rounds}
pool = urllib3.PoolManager()
api = ApiClient(Configuration(host, public_key="pub", private_key="priv", signature="2026"))

def raw():
    # What a hand-written client sends: the same signed request (2026 rule), parsed with json.
    date = formatdate(usegmt=True)
    digest = hmac.digest(b"priv", f"GET\\n\\n\\n{{date}}".encode(), "sha1")
    headers = {{"date": date, "Authorization": "CYTOMINE pub:" + base64.b64encode(digest).decode()}}
    json.loads(pool.request("GET", host + "/api/project/42.json", headers=headers).data)

def sdk():
    api.project_api.retrieve(42)

for f in (raw, sdk):  # connections and caches warm
    for _ in range(300):
        f()
times = {{"raw": [], "sdk": []}}
for _ in range(rounds):  # interleaved, so machine noise hits both
    for name, f in (("raw", raw), ("sdk", sdk)):
        started = time.perf_counter()
        for _ in range(calls):
            f()
        times[name].append(time.perf_counter() - started)
report(raw=statistics.median(times["raw"]), sdk=statistics.median(times["sdk"]))
"""


def run_get(args: argparse.Namespace) -> Row:
    calls, rounds = 2000, max(5, args.rounds * 3)
    with server_process(JSON_SERVER) as host:
        got = run_client(GET_CLIENTS.format(host=host, calls=calls, rounds=rounds))
    raw, sdk = calls / got["raw"], calls / got["sdk"]
    return Row("signed GET + model (calls/s)", raw, sdk, sdk / raw, 1.0, higher_is_better=True,
               note=f"{1e6 / sdk:.0f} us per call vs {1e6 / raw:.0f}; {calls} calls x {rounds} rounds, medians")
