"""Upload slides to Cytomine, add them to projects, and wait until they are converted.

    python examples/upload_slides.py slides/*.svs --project 100
    python examples/upload_slides.py scans/ --project 100 --project 101 --property scanner=S360

Uploads each file (a folder: every file in it) to the image server, streamed from disk, into
your storage (or --storage), adding the images to the projects given and setting the
properties given on them. Then waits until the server has converted every file, and prints
the status of each. Exit status 0 when every slide is ready, 1 otherwise (the reasons are
printed). The connection comes from the environment, a profile or the options below (see --help).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

from cytomine_sdk import ApiClient, Configuration, CytomineError
from cytomine_sdk.arguments import add_arguments
from cytomine_sdk.uploads import status_name, upload_image, wait_until_ready


def key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def upload_all(api_client: ApiClient, args: argparse.Namespace) -> int:
    files = [f for p in map(Path, args.paths) for f in (sorted(p.iterdir()) if p.is_dir() else [p]) if f.is_file()]
    if not files:
        raise ValueError("no file to upload")
    storage = args.storage
    if storage is None:  # the current user's own storage
        me = api_client.user_api.retrieve_current().id
        storage = next((s.id for s in api_client.storage_api.list() if me in (s.user, s.user_id)), None)
        if storage is None:
            raise ValueError("you have no storage: give one with --storage")
    progress = sys.stderr.isatty() and importlib.util.find_spec("tqdm") is not None

    # Upload everything first, then wait: the server converts the files while the others upload.
    uploaded: dict[Path, int] = {}
    failed: dict[Path, str] = {}
    for path in files:
        try:
            result = upload_image(api_client, path, storage=storage, projects=args.project,
                                  properties=dict(args.property), progress=progress)
        except (CytomineError, ValueError) as exc:
            failed[path] = str(exc)
            continue
        if result.uploaded_file.id is not None:
            uploaded[path] = result.uploaded_file.id
        print(f"{path.name}: uploaded (uploaded file {result.uploaded_file.id})")

    for path, uploaded_file in uploaded.items():
        try:
            ready = wait_until_ready(api_client, uploaded_file, timeout=args.timeout, poll_interval=args.poll)
        except CytomineError as exc:  # UploadError: conversion failed or timed out
            failed[path] = str(exc)
            continue
        print(f"{path.name}: {status_name(ready.status)}")

    for path, reason in failed.items():
        print(f"{path.name}: FAILED: {reason}", file=sys.stderr)
    print(f"{len(files) - len(failed)} of {len(files)} slide(s) ready in storage {storage}"
          + (f", projects {', '.join(map(str, args.project))}" if args.project else ""))
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = add_arguments(argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    parser.add_argument("paths", nargs="+", help="slide files, or folders of slide files")
    parser.add_argument("--project", type=int, action="append", default=[], help="add the images to this project")
    parser.add_argument("--storage", type=int, help="storage id (default: your own storage)")
    parser.add_argument("--property", type=key_value, action="append", default=[], metavar="KEY=VALUE",
                        help="a property to set on each image")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for each conversion")
    parser.add_argument("--poll", type=float, default=2, help="seconds between status checks")
    args = parser.parse_args(argv)
    try:
        with ApiClient(Configuration.from_args(args)) as api_client:
            return upload_all(api_client, args)
    except (CytomineError, ValueError, OSError) as exc:
        print(f"upload_slides: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
