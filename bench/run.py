"""The speed and memory targets, each a ratio to a baseline measured in the same run.

    make bench                         # every row
    make bench ARGS="get listing"      # some rows
    python bench/run.py --strict       # exit 1 when a target is missed

Servers run in their own process; each client runs in a fresh interpreter (its peak RSS is its
own); clients are interleaved over several rounds and medians compared. The rows:

- import     `import cytomine_sdk` vs importing its dependencies           <= 1.3x
- first-use  import, client, first call on each of the 5 largest services
             vs `import urllib3, pydantic`                                  <= 1.5x
- get        2000 signed GETs parsed into a model vs urllib3 + the same
             signature + json.loads                                         >= 1.0x the calls/s
- listing    100k annotations (WKT, terms, meta columns) to objects vs
             urllib3 + json.loads                                           <= 1.0x time, <= 1.3x memory
- download   2 GiB to disk vs urllib3 streaming to disk                    >= 0.95x speed, <= 40 MB
- bulk       10k annotations created (the stub in its own process) vs
             urllib3 posting chunks of 1000 on one connection               >= 1.0x items/s
- tiles      1000 tiles, 20 ms server latency, 8 workers vs sequential     >= 6x
- dataset    240 annotation crops (mask, label) through AnnotationDataset, 20 ms
             server latency, 4 worker processes vs 1                        >= 3x
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, load_average

# Row name -> module of bench/ with `run(args) -> Row`.
ROWS = {
    "import": "bench.calls:run_import",
    "first-use": "bench.calls:run_first_use",
    "get": "bench.calls:run_get",
    "listing": "bench.listing:run",
    "download": "bench.download:run",
    "bulk": "bench.bulk:run",
    "tiles": "bench.tiles:run",
    "dataset": "bench.dataset:run",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("rows", nargs="*", default=list(ROWS), help=f"rows to run, among {', '.join(ROWS)}")
    ap.add_argument("--download-size", default="2GiB", help="size of the download row's file (default 2GiB)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the rows that run clients")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()
    unknown = [r for r in args.rows if r not in ROWS]
    if unknown:
        ap.error(f"unknown rows {unknown}; choose among {list(ROWS)}")
    print(f"{'row':30} {'baseline':>10} {'ours':>10} {'ratio':>7} {'target':>8}  result", flush=True)
    missed = []
    for name in args.rows:
        module, func = ROWS[name].split(":")
        row: Row = getattr(importlib.import_module(module), func)(args)
        target = f"{'>=' if row.higher_is_better else '<='}{row.target}"
        checks = "".join(f"; {label}: {'ok' if ok else 'MISSED'}" for label, ok in row.checks)
        print(f"{row.name:30} {row.baseline:10.3f} {row.ours:10.3f} {row.ratio:7.2f} {target:>8}  "
              f"{'ok' if row.ok else 'MISSED'}  {row.note}{checks}", flush=True)
        if not row.ok:
            missed.append(row.name)
    print(f"machine: {load_average()}; missed: {', '.join(missed) or 'none'}")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
