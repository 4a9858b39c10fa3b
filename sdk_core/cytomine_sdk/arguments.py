"""Command-line options for scripts, named like the official Cytomine python client's.

    import argparse
    from cytomine_sdk import ApiClient, Configuration
    from cytomine_sdk.arguments import add_arguments

    parser = add_arguments(argparse.ArgumentParser())
    parser.add_argument("--project", type=int, required=True)
    args = parser.parse_args()
    with ApiClient(Configuration.from_args(args)) as api_client:
        print(api_client.project_api.retrieve(args.project).name)

Scripts written for the official client keep their command lines: ``--cytomine_host``,
``--publicKey``, ``--cytomine_private_key``, ``--cytomine_base_path /api/``, ``--verbose``,
``--log_level`` are all accepted. Its short option ``-l`` (for ``--log_level``) is not added, so
that short options stay free for the script.
"""

from __future__ import annotations

import argparse
import logging
import re
from typing import Final

from cytomine_sdk.signing import SIGNATURE_SETTINGS

__all__ = ["CONNECTION_DESTS", "LOG_LEVELS", "add_arguments"]

#: The `dest` names `add_arguments` fills in and `Configuration.from_args` reads.
CONNECTION_DESTS: Final = (
    "host", "public_key", "private_key", "token", "username", "password", "profile", "signature", "base_path",
    "verbose", "log_level",
)
#: The values of ``--log_level`` (as in the official client; any case is accepted).
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LOGGER = "cytomine_sdk"
# The legacy client's base path, which this SDK's operation paths already include.
_API_BASE_PATH = re.compile(r"/?api/?")


def add_arguments(parser: argparse.ArgumentParser, *, required: bool = False) -> argparse.ArgumentParser:
    """Add a "Cytomine connection" argument group to `parser` and return `parser`.

    Options (synonyms from the official Cytomine python client in brackets): ``--host``
    [``--cytomine_host``], ``--public_key`` [``--publicKey``, ``--cytomine_public_key``],
    ``--private_key`` [``--privateKey``, ``--cytomine_private_key``], ``--token``, ``--username``,
    ``--password``, ``--profile``, ``--signature``, ``--base_path`` [``--basePath``,
    ``--cytomine_base_path``], ``--verbose`` [``--cytomine_verbose``] and ``--log_level``
    [``--cytomine_log_level``]. Every option defaults to None ("not given"), so
    `Configuration.from_args` can fall back to the environment and profiles.

    Args:
        parser: the script's parser.
        required: make ``--host`` mandatory, as in the official client. Credentials stay optional:
            they may come from ``--token``, ``--username``, a profile or the environment.
    """
    group = parser.add_argument_group(
        "Cytomine connection",
        "Options not given are read from CYTOMINE_* environment variables, then from a profile "
        "(--profile, CYTOMINE_PROFILE or [default]). Prefer a profile or the environment for keys, "
        "tokens and passwords: command lines are visible to other users of the machine.",
    )
    group.add_argument(
        "--host", "--cytomine_host", dest="host", required=required, metavar="URL",
        help="Cytomine server URL; https:// is assumed when no scheme is given",
    )
    group.add_argument(
        "--public_key", "--publicKey", "--cytomine_public_key", dest="public_key", metavar="KEY",
        help="public API key (Cytomine account page)",
    )
    group.add_argument(
        "--private_key", "--privateKey", "--cytomine_private_key", dest="private_key", metavar="KEY",
        help="private API key",
    )
    group.add_argument("--token", dest="token", metavar="TOKEN", help="bearer token, instead of keys")
    group.add_argument(
        "--username", dest="username", metavar="NAME",
        help="log in to the server's IAM (2025/2026 servers) as this user, instead of keys; the "
        "password comes from --password, CYTOMINE_PASSWORD or the profile",
    )
    group.add_argument(
        "--password", dest="password", metavar="PASSWORD",
        help="password for --username; visible to other users of the machine (ps) and kept in shell "
        "history: prefer CYTOMINE_PASSWORD or a profile",
    )
    group.add_argument("--profile", dest="profile", metavar="NAME", help="profile of the profiles file to use")
    group.add_argument(
        "--signature", dest="signature", choices=SIGNATURE_SETTINGS,
        help="request signing scheme (default: auto)",
    )
    group.add_argument(
        "--base_path", "--basePath", "--cytomine_base_path", dest="base_path", metavar="PATH",
        help="accepted for compatibility; only /api/ is allowed (put any other prefix in --host)",
    )
    group.add_argument(
        "--verbose", "--cytomine_verbose", dest="verbose", type=_level, metavar="LEVEL",
        help="level of the cytomine_sdk logger, as a number (10 = DEBUG, 20 = INFO) or a name",
    )
    group.add_argument(
        "--log_level", "--cytomine_log_level", dest="log_level", type=str.upper, choices=LOG_LEVELS,
        help="level of the cytomine_sdk logger (wins over --verbose)",
    )
    return parser


def _level(text: str) -> int:
    """``--verbose`` value: a logging level number, as in the official client, or a level name."""
    if text.strip().lstrip("-").isdigit():
        return int(text)
    if text.upper() in LOG_LEVELS:
        return int(getattr(logging, text.upper()))
    raise argparse.ArgumentTypeError(f"expected a logging level number or one of {', '.join(LOG_LEVELS)}")


def _connection_args(namespace: object) -> tuple[str | None, dict[str, object]]:
    """(profile, settings given on the command line) from parsed arguments; applies the log level.

    `namespace` is what `parse_args` returns, or the tuple `parse_known_args` returns. Missing
    attributes count as not given, so parsers built without `add_arguments` work too.
    """
    if isinstance(namespace, tuple) and len(namespace) == 2 and isinstance(namespace[1], list):
        namespace = namespace[0]
    given = {dest: getattr(namespace, dest, None) for dest in CONNECTION_DESTS}
    _check_base_path(given["base_path"])
    _apply_log_level(given["verbose"], given["log_level"])
    profile = given["profile"]
    if profile is not None and not isinstance(profile, str):
        raise ValueError(f"profile: expected a profile name, got {type(profile).__name__}")
    settings: dict[str, object] = {
        key: given[key] for key in ("host", "public_key", "private_key", "token", "username", "password", "signature")
        if given[key] is not None
    }
    return profile or None, settings


def _check_base_path(base_path: object) -> None:
    if base_path is None:
        return
    if not isinstance(base_path, str) or not _API_BASE_PATH.fullmatch(base_path.strip()):
        prefix = base_path.strip().rstrip("/") if isinstance(base_path, str) else ""
        prefix = prefix.removesuffix("/api")
        hint = f" (e.g. --host https://cytomine.example.org{prefix})" if prefix.startswith("/") else ""
        raise ValueError(
            f"base_path: {base_path!r} is not supported: this SDK's paths already start with /api, "
            f"so only '/api/' is accepted; put a server prefix in --host instead{hint}"
        )


def _apply_log_level(verbose: object, log_level: object) -> None:
    # Only the SDK's logger: configuring handlers (basicConfig) is the application's business.
    level = log_level if log_level is not None else verbose
    if level is None:
        return
    if isinstance(level, str) and level.upper() in LOG_LEVELS:
        level = int(getattr(logging, level.upper()))
    if isinstance(level, bool) or not isinstance(level, int):
        name = "log_level" if log_level is not None else "verbose"
        raise ValueError(f"{name}: expected a logging level number or one of {', '.join(LOG_LEVELS)}, got {level!r}")
    logging.getLogger(_LOGGER).setLevel(level)
