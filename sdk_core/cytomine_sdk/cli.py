"""The `cytomine` command: tasks users otherwise script by hand.

    cytomine export-annotations --project 42 --out export/ --masks
    cytomine whoami          # the user the credentials belong to, and the server's generation
    cytomine ping            # is the server reachable, and are the credentials accepted?
    cytomine --version       # the SDK's version and that of the API spec it was generated from

Connection options are those of `cytomine_sdk.arguments` (profile, environment or --host/keys).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from cytomine_sdk.client import ApiClient


def _ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated ids, got {text!r}") from None
    if not ids or any(i <= 0 for i in ids):
        raise argparse.ArgumentTypeError(f"expected comma-separated ids, got {text!r}")
    return ids


def _sdk_version() -> str:
    """The installed distribution's version, or the package's own when it runs from a source tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cytomine-sdk")
    except PackageNotFoundError:
        from cytomine_sdk import __version__

        return __version__


def _api_spec_version() -> str | None:
    """The `info.version` of the spec the generated layer was built from, when it says so."""
    try:
        import cytomine_sdk_gen
    except ImportError:
        return None
    declared = getattr(cytomine_sdk_gen, "__api_version__", None)
    return declared if isinstance(declared, str) else None


def _version_text() -> str:
    """What `cytomine --version` prints."""
    api = _api_spec_version()
    spec = f", generated from the Cytomine API spec {api}" if api else ""
    return f"cytomine-sdk {_sdk_version()}{spec} (Python {sys.version.split()[0]})"


class _Version(argparse.Action):
    """`--version`, its text computed only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> NoReturn:
        print(_version_text())
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    from cytomine_sdk.arguments import add_arguments

    parser = argparse.ArgumentParser(prog="cytomine", description="Cytomine tasks from the command line.")
    parser.add_argument("--version", action=_Version, help="print the SDK's version and the API spec's, and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    export = commands.add_parser(
        "export-annotations",
        help="write a project's annotations as GeoJSON (and label masks) per image",
        description="Write one GeoJSON FeatureCollection per image of a project (and, with --masks, a "
        "label mask PNG per image), plus terms.json with the class value of each term.",
    )
    export.add_argument("--project", type=int, required=True, help="id of the project")
    export.add_argument("--out", required=True, help="folder to write to (created if needed)")
    export.add_argument("--images", type=_ids, help="only these image ids (comma-separated)")
    export.add_argument("--terms", type=_ids, help="only annotations with these term ids")
    export.add_argument("--users", type=_ids, help="only annotations of these user ids")
    export.add_argument("--masks", action="store_true", help="also write label masks (needs Pillow)")
    export.add_argument("--mask-max-size", type=int, default=4096, help="longer side of masks in pixels")
    export.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_arguments(export)
    for name, text in (
        ("whoami", "print the user the credentials belong to and the server's generation"),
        ("ping", "check that the server answers and accepts the credentials (exit 1 if not)"),
    ):
        add_arguments(commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + "."))
    return parser


def _whoami(api_client: ApiClient) -> int:
    me = api_client.whoami()
    user = me.user
    signing = f", signed with the {me.signing} scheme" if me.signing else ", bearer token"
    print(f"{user.username} (user {user.id}) on {api_client.configuration.host}: "
          f"a {me.generation} server{signing}")
    return 0


def _ping(api_client: ApiClient) -> int:
    from cytomine_sdk.exceptions import APIConnectionError, AuthenticationError

    host = api_client.configuration.host
    started = time.perf_counter()
    try:
        me = api_client.whoami()
    except AuthenticationError as exc:
        print(f"{host} answers, but refused the credentials: {exc.hint or exc}", file=sys.stderr)
        return 1
    except APIConnectionError as exc:
        print(f"{host} is not reachable: {exc}", file=sys.stderr)
        return 1
    elapsed = (time.perf_counter() - started) * 1000
    print(f"{host}: a {me.generation} server, credentials of {me.user.username} accepted ({elapsed:.0f} ms)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from cytomine_sdk import ApiClient, Configuration, CytomineError
    from cytomine_sdk.export import export_annotations

    args = _parser().parse_args(argv)
    if args.command in ("whoami", "ping"):
        try:
            with ApiClient(Configuration.from_args(args)) as api_client:
                return (_whoami if args.command == "whoami" else _ping)(api_client)
        except (CytomineError, ValueError) as exc:
            print(f"cytomine: error: {exc}", file=sys.stderr)
            return 1
    try:
        with ApiClient(Configuration.from_args(args)) as api_client:
            report = export_annotations(
                api_client,
                args.project,
                args.out,
                images=args.images,
                terms=args.terms,
                users=args.users,
                masks=args.masks,
                mask_max_size=args.mask_max_size,
                progress=not args.no_progress and sys.stderr.isatty() and _has_tqdm(),
            )
    except (CytomineError, ValueError, ImportError, OSError) as exc:
        print(f"cytomine: error: {exc}", file=sys.stderr)
        return 1
    skipped = sum(len(i.skipped) for i in report.images)
    print(
        f"{report.annotations} annotations of {len(report.images)} images written to {args.out}"
        + (f" ({skipped} skipped, see the report)" if skipped else "")
    )
    return 0


def _has_tqdm() -> bool:
    """Whether a progress bar can be drawn: tqdm is the optional `progress` extra, and a command
    run in a terminal without it should work, only without a bar."""
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
