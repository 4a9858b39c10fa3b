"""The command line: ``python -m cytomine_sdk.testing`` serves a stub until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from . import _auth as server_auth
from ._cytomine_stub import (
    DEFAULT_PASSWORD,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_TOKEN_LIFESPAN,
    DEFAULT_USERNAME,
    CytomineStub,
)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cytomine_sdk.testing``: serve a stub until Ctrl-C, printing its host and keys."""
    parser = argparse.ArgumentParser(prog="python -m cytomine_sdk.testing",
                                     description="A local Cytomine server of one generation, for tests and demos")
    parser.add_argument("--generation", choices=server_auth.GENERATIONS, default="2026")
    parser.add_argument("--no-seed", dest="seed", action="store_false", help="start without the demo data")
    parser.add_argument("--fixture", default=None, help="JSON (or YAML) file of data to add")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--public-key", default=DEFAULT_PUBLIC_KEY)
    parser.add_argument("--private-key", default=DEFAULT_PRIVATE_KEY)
    parser.add_argument("--token", default=None, help="accept 'Authorization: Bearer <token>' (2025/2026)")
    parser.add_argument("--password", default=DEFAULT_PASSWORD,
                        help=f"IAM password of {DEFAULT_USERNAME!r} (2025/2026)")
    parser.add_argument("--token-lifespan", type=float, default=DEFAULT_TOKEN_LIFESPAN,
                        help="seconds an IAM access token is accepted")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    stub = CytomineStub(
        args.generation,
        seed=args.seed,
        fixture=args.fixture,
        public_key=args.public_key,
        private_key=args.private_key,
        token=args.token,
        password=args.password,
        token_lifespan=args.token_lifespan,
        port=args.port,
        verbose=args.verbose,
    ).start()
    print(f"Cytomine stub (generation {stub.generation}) serving; press Ctrl-C to stop")
    print(f"CYTOMINE_HOST={stub.host}")
    print(f"CYTOMINE_PUBLIC_KEY={stub.public_key}")
    print(f"CYTOMINE_PRIVATE_KEY={stub.private_key}")
    if stub.token:
        print(f"CYTOMINE_TOKEN={stub.token}")
    if stub.generation != "legacy":
        print(f"IAM login (instead of keys): CYTOMINE_USERNAME={stub.username} CYTOMINE_PASSWORD={stub.password}")
    sys.stdout.flush()

    def on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()
    return 0
