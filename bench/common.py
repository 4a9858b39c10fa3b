"""What every benchmark row shares: servers in their own process, clients in fresh interpreters
with their peak memory, medians over interleaved rounds, and the row printed in the table.

A row module exposes `run(args) -> Row`; bench/run.py lists the rows and prints the table.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# What a client process needs to import the SDK from the working tree (no install needed).
PATHS = [str(ROOT / "sdk_core"), str(ROOT / "sdk"), str(ROOT)]


@dataclass
class Row:
    """One line of the table: `ours` and `baseline` in the same unit (seconds unless said),
    `ratio` as the target reads it (ours/baseline for times; baseline/ours for speeds when
    `higher_is_better`)."""

    name: str
    baseline: float
    ours: float
    ratio: float
    target: float
    higher_is_better: bool = False
    note: str = ""
    # Other targets of the row (e.g. memory), each (label, met).
    checks: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        met = self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target
        return met and all(ok for _, ok in self.checks)


def clean_env() -> dict[str, str]:
    """The environment for a client process: byte-code caching on, as in any installed package
    (PYTHONDONTWRITEBYTECODE would make every run compile the SDK while dependencies' caches
    exist), and no user site or startup file."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONSTARTUP")}


# Prepended to every client program: `report(**values)` prints them as JSON with the process's
# peak RSS. VmHWM starts again at exec; ru_maxrss would keep the forked parent's peak.
_PRELUDE = """
import json as _json, sys as _sys
_sys.path[:0] = {paths!r}
def report(**values):
    try:
        with open("/proc/self/status") as _f:
            values["peak_kb"] = next(int(l.split()[1]) for l in _f if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        values["peak_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(_json.dumps(values), flush=True)
"""


def run_client(code: str, timeout: float = 600) -> dict[str, Any]:
    """Run `code` (which calls `report(...)` once) in a fresh interpreter; its report."""
    program = _PRELUDE.format(paths=PATHS) + textwrap.dedent(code)
    done = subprocess.run([PY, "-c", program], capture_output=True, text=True, env=clean_env(), timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"client program failed ({done.returncode}):\n{done.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@contextmanager
def server_process(code: str) -> Iterator[str]:
    """Run a server program in its own process (as a real server is: in the client's process it
    would compete for the GIL and blur the client's cost); yields its base URL. The program
    prints its port on the first line of its output, then serves until terminated."""
    program = f"import sys\nsys.path[:0] = {PATHS!r}\n" + textwrap.dedent(code)
    server = subprocess.Popen([PY, "-c", program], stdout=subprocess.PIPE, text=True, env=clean_env())
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"server did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line)}"
    finally:
        server.terminate()
        server.wait()


def interleaved(clients: dict[str, Callable[[], dict[str, Any]]], rounds: int) -> dict[str, list[dict[str, Any]]]:
    """Run each client once per round, in turn, so machine noise hits them all alike."""
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in clients}
    for _ in range(rounds):
        for name, client in clients.items():
            results[name].append(client())
    return results


def median(reports: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in reports))


def peak_mb(reports: list[dict[str, Any]]) -> float:
    """The largest peak RSS of a client's runs, in MB."""
    return float(max(r["peak_kb"] for r in reports)) / 1024


def load_average() -> str:
    """The machine load when the table is printed, to judge the numbers by."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load unknown"
    return f"load {one:.2f} (5 min {five:.2f}) on {os.cpu_count()} cores"


def size_arg(text: str) -> int:
    """'2GiB', '512M', '1000' as a number of bytes."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.lower().removesuffix("ib").removesuffix("b")
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)

