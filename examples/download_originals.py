"""Download the original slide files of a project's images.

    python examples/download_originals.py --project 100 --out slides/
    python examples/download_originals.py --project 100 --images 200,201 --out slides/

Each file is streamed to disk (constant memory) under its original name (prefixed with the
image id when two images share a name). Files already there are skipped, and an interrupted
run picks up where it stopped: run the same command again, partial files are resumed.

2025 and 2026 servers read the user of an original-file download from a bearer token: connect
with a token (CYTOMINE_TOKEN) or a login (CYTOMINE_USERNAME and CYTOMINE_PASSWORD), not API keys.
Legacy servers take the keys. Exit status 0 when every file is there, 1 otherwise. The
connection comes from the environment, a profile or the options below (see --help).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from cytomine_sdk import ApiClient, Configuration, CytomineError
from cytomine_sdk.arguments import add_arguments
from cytomine_sdk.downloads import download, safe_filename
from cytomine_sdk.exceptions import BearerTokenRequiredError


def ids(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def download_all(api_client: ApiClient, args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = {  # image id -> file name
        i.id: safe_filename(i.original_filename or i.filename, f"image-{i.id}")
        for i in api_client.image_instance_api.list_by_project(args.project)
        if i.id is not None and (not args.images or i.id in args.images)
    }
    shared = {name for name, count in Counter(names.values()).items() if count > 1}
    progress = sys.stderr.isatty() and importlib.util.find_spec("tqdm") is not None
    failed = 0
    for image, name in names.items():
        target = out / (f"{image}-{name}" if name in shared else name)
        if target.exists():
            print(f"{target}: already there")
            continue
        try:
            path = download(api_client.image_instance_api.download, image, dest=target, progress=progress)
        except BearerTokenRequiredError:
            raise  # the same for every image: stop with its explanation
        except (CytomineError, OSError) as exc:
            print(f"image {image} ({name}): {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{path}: {path.stat().st_size} bytes")
    print(f"{len(names) - failed} of {len(names)} original file(s) in {out}")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = add_arguments(argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    parser.add_argument("--project", type=int, required=True, help="project id")
    parser.add_argument("--images", type=ids, help="only these image ids (comma-separated)")
    parser.add_argument("--out", required=True, help="folder to download to (created if needed)")
    args = parser.parse_args(argv)
    try:
        with ApiClient(Configuration.from_args(args)) as api_client:
            return download_all(api_client, args)
    except (CytomineError, ValueError, OSError) as exc:
        print(f"download_originals: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
