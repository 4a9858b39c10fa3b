"""Named connection profiles in a private INI file, so keys need not live in scripts or shells.

The file is ``$CYTOMINE_CONFIG`` if set, else ``$XDG_CONFIG_HOME/cytomine/config.ini``, else
``~/.config/cytomine/config.ini`` (``%APPDATA%\\cytomine\\config.ini`` on Windows). Each section is
a profile; its keys are `Configuration` parameters::

    [default]
    host = https://cytomine.example.org
    public_key = 0c4a7e2c-...
    private_key = 9f8e...

    [lab]
    host = https://lab.example.org
    token = eyJhbGciOi...
    read_timeout = 120
    verify_ssl = false

    [hospital]
    host = https://cytomine.hospital.example
    username = jdoe
    password = ...

On POSIX the file is refused when group or others may read or write it (``chmod 600 <file>``).
Values are read as written (no ``%`` interpolation) and typed per setting; ``[DEFAULT]`` is an
ordinary profile, not a set of values shared by all profiles.
"""

from __future__ import annotations

import configparser
import os
import shlex
import stat
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Final

from cytomine_sdk.configuration import Configuration, normalize_host

__all__ = [
    "PROFILE_SETTINGS",
    "ProfileError",
    "ProfileNotFoundError",
    "ProfilePermissionError",
    "config_path",
    "list_profiles",
    "load_profile",
    "save_profile",
]

StrPath = str | os.PathLike[str]

#: The keys a profile may hold (the `Configuration` parameters, but `token_provider`, a callable)
#: and the type each is read as.
PROFILE_SETTINGS: Final[Mapping[str, type]] = {
    "host": str,
    "public_key": str,
    "private_key": str,
    "token": str,
    "username": str,
    "password": str,
    "signature": str,
    "connect_timeout": float,
    "read_timeout": float,
    "verify_ssl": bool,
    "ssl_ca_cert": str,
    "proxy": str,
    "pool_maxsize": int,
    "max_retries": int,
    "retry_backoff": float,
    "max_retry_wait": float,
    "retry_non_idempotent": bool,
    "pims_url": str,
    "iam_url": str,
    "max_binary_in_memory": int,
}
# Values never echoed in an error message.
_SECRETS: Final = frozenset({"private_key", "token", "password"})
_KINDS: Final[Mapping[type, str]] = {str: "a string", float: "a number", int: "an integer", bool: "true or false"}
# A section name no header line can produce: it turns off configparser's [DEFAULT] inheritance,
# which would silently copy a token or keys into every profile.
_NO_DEFAULT_SECTION: Final = "\n"
_HEADER: Final = "# Cytomine connection profiles (cytomine_sdk.profiles). Keep this file private: chmod 600.\n\n"


class ProfileError(ValueError):
    """The profiles file or a profile in it is not usable (bad syntax, unknown key, bad value)."""


class ProfileNotFoundError(ProfileError):
    """The profiles file, or the requested profile in it, does not exist."""


class ProfilePermissionError(PermissionError):
    """The profiles file may be read or written by other users: it is refused until `chmod 600`."""


def config_path() -> Path:
    """Where profiles are read and saved: ``$CYTOMINE_CONFIG``, else
    ``$XDG_CONFIG_HOME/cytomine/config.ini``, else ``~/.config/cytomine/config.ini``
    (``%APPDATA%\\cytomine\\config.ini`` on Windows)."""
    return _default_config_path(os.environ, windows=os.name == "nt")


def _default_config_path(environ: Mapping[str, str], *, windows: bool) -> Path:
    explicit = environ.get("CYTOMINE_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    xdg = environ.get("XDG_CONFIG_HOME")
    # The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "cytomine" / "config.ini"
    if windows:
        appdata = environ.get("APPDATA")
        base = Path(appdata) if appdata else Path.home() / "AppData" / "Roaming"
        return base / "cytomine" / "config.ini"
    return Path.home() / ".config" / "cytomine" / "config.ini"


def list_profiles(path: StrPath | None = None) -> list[str]:
    """The profile names in the profiles file (in file order); ``[]`` when the file does not exist.

    Raises:
        ProfilePermissionError: the file is readable or writable by group or others (POSIX).
        ProfileError: the file is not a valid INI file.
    """
    parser = _read(_resolve(path))
    return [] if parser is None else parser.sections()


def load_profile(name: str = "default", path: StrPath | None = None) -> dict[str, object]:
    """The settings of profile `name`, typed (floats, ints, booleans), as `Configuration` keywords.

    Args:
        name: the profile (section) name.
        path: the profiles file; defaults to `config_path()`.

    Raises:
        ProfileNotFoundError: no such file, or no such profile in it (the message lists the
            existing profiles).
        ProfilePermissionError: the file is readable or writable by group or others (POSIX).
        ProfileError: invalid INI syntax, an unknown key or a value of the wrong type.
    """
    _check_name(name)
    source = _resolve(path)
    parser = _read(source)
    if parser is None:
        raise ProfileNotFoundError(
            f"profile {name!r}: the profiles file {source} does not exist (create it with "
            "cytomine_sdk.profiles.save_profile(), or point CYTOMINE_CONFIG at it)"
        )
    if not parser.has_section(name):
        existing = ", ".join(repr(p) for p in parser.sections()) or "none"
        raise ProfileNotFoundError(f"profile {name!r}: not found in {source} (existing profiles: {existing})")
    settings: dict[str, object] = {}
    for key in parser.options(name):
        if key not in PROFILE_SETTINGS:
            raise ProfileError(
                f"{key}: unknown setting in profile {name!r} of {source}; "
                f"expected one of {', '.join(PROFILE_SETTINGS)}"
            )
        settings[key] = _typed(parser, name, key, source)
    return settings


def save_profile(name: str, *, path: StrPath | None = None, **settings: object) -> Path:
    """Write profile `name` with `settings`, replacing that profile and keeping the others.

    The settings are checked as `Configuration` would check them before anything is written
    (except that a `username` may be saved without its `password`, to be given by
    ``CYTOMINE_PASSWORD`` or ``--password``); ``None`` values are left out. The file is written
    atomically (a 0600 temporary file moved over it) and directories it creates are 0700.
    Comments in an existing file are not kept.

    Args:
        name: the profile (section) name, e.g. ``"default"`` or ``"lab"``.
        path: the profiles file; defaults to `config_path()`.
        settings: `Configuration` parameters (`host`, `public_key`, `private_key`, `token`,
            `username`, `password`, ...; not `token_provider`).

    Returns:
        The path of the file written.
    """
    _check_name(name)
    values = {key: value for key, value in settings.items() if value is not None}
    for key in values:
        if key not in PROFILE_SETTINGS:
            raise ValueError(f"{key}: unknown setting; expected one of {', '.join(PROFILE_SETTINGS)}")
    lines = {key: _serialized(key, value) for key, value in values.items()}
    for url in ("host", "pims_url", "iam_url"):
        if url in values:
            lines[url] = normalize_host(lines[url], url)
    # Let Configuration judge the combination (key pair, one kind of credentials, signature,
    # numbers); a placeholder https host and no pims_url or iam_url (checked above) keep it from
    # warning about plain-http URLs being saved: nothing is sent yet, and loading the profile warns.
    checked = {**values, "host": "https://localhost", "pims_url": None, "iam_url": None}
    if "username" in values:
        # A username may be saved alone, its password coming from CYTOMINE_PASSWORD or --password
        # (kept out of the file).
        checked.setdefault("password", "given elsewhere")
    Configuration(**checked)  # type: ignore[arg-type]

    target = Path(os.path.realpath(_resolve(path)))
    parser = _read(target) or _new_parser()
    if parser.has_section(name):
        # Cleared in place so the profile keeps its position in the file.
        for key in parser.options(name):
            parser.remove_option(name, key)
    else:
        parser.add_section(name)
    for key, line in lines.items():
        parser.set(name, key, line)
    _make_private_dirs(target.parent)
    _write_atomically(target, parser)
    return target


def _resolve(path: StrPath | None) -> Path:
    return config_path() if path is None else Path(path).expanduser()


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name or name != name.strip() or any(c in name for c in "[]\r\n"):
        raise ValueError(f"name: expected a profile name such as 'default', without brackets, got {name!r}")


def _new_parser() -> configparser.ConfigParser:
    # No interpolation: a private key or token may contain '%'.
    return configparser.ConfigParser(
        interpolation=None, default_section=_NO_DEFAULT_SECTION, empty_lines_in_values=False
    )


def _read(path: Path) -> configparser.ConfigParser | None:
    """The parsed file, or None when it does not exist; refused before parsing if not private."""
    # Non-blocking: opening a FIFO for reading would otherwise wait for a writer, forever.
    # O_NOCTTY: a terminal device given as the path must not become the controlling terminal.
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    # Checked on the open descriptor, so the file cannot be swapped between check and read.
    try:
        _check_private(path, os.fstat(fd))
        if os.name == "posix":
            os.set_blocking(fd, True)  # a regular file: reads are ordinary from here on
    except BaseException:
        os.close(fd)
        raise
    parser = _new_parser()
    with os.fdopen(fd, encoding="utf-8") as file:
        try:
            parser.read_file(file, source=str(path))
        except configparser.Error as exc:
            # configparser's messages quote the offending line, which may hold a key: never shown.
            raise ProfileError(f"{path}: not a valid profiles file: {_describe(exc)}") from None
        except UnicodeDecodeError:
            raise ProfileError(f"{path}: not UTF-8 text") from None
    return parser


def _check_private(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ProfileError(f"{path}: the profiles file is not a regular file but {_file_kind(info.st_mode)}")
    if os.name == "posix" and info.st_mode & 0o066:
        raise ProfilePermissionError(
            f"{path}: refused, other users may read or write this file of secrets "
            f"(mode {stat.S_IMODE(info.st_mode):o}); run `chmod 600 {shlex.quote(str(path))}`"
        )


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


def _describe(exc: configparser.Error) -> str:
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"line {exc.lineno} comes before the first [profile] header"
    if isinstance(exc, configparser.ParsingError):
        lines = ", ".join(str(lineno) for lineno, _ in exc.errors)
        return f"line(s) {lines} are neither a [profile] header nor a 'key = value' setting"
    if isinstance(exc, configparser.DuplicateSectionError):
        return f"profile {exc.section!r} appears twice (line {exc.lineno})"
    if isinstance(exc, configparser.DuplicateOptionError):
        return f"{exc.option!r} appears twice in profile {exc.section!r} (line {exc.lineno})"
    return type(exc).__name__


def _typed(parser: configparser.ConfigParser, profile: str, key: str, source: Path) -> object:
    raw = parser.get(profile, key)
    where = f"in profile {profile!r} of {source}"
    if not raw:
        raise ProfileError(f"{key}: empty value {where}; remove the line or give a value")
    if "\n" in raw:
        # An indented line continues the previous value: usually a mistake that glues two settings.
        raise ProfileError(f"{key}: the value continues on an indented line {where}; unindent the next line")
    kind = PROFILE_SETTINGS[key]
    try:
        if kind is bool:
            return parser.getboolean(profile, key)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError:
        shown = "" if key in _SECRETS else f", got {raw!r}"
        raise ProfileError(f"{key}: expected {_KINDS[kind]} {where}{shown}") from None
    return raw


def _serialized(key: str, value: object) -> str:
    kind = PROFILE_SETTINGS[key]
    shown = "" if key in _SECRETS else f", got {value!r}"
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{key}: expected True or False{shown}")
        return "true" if value else "false"
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{key}: expected an integer{shown}")
        return str(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key}: expected a number{shown}")
        return repr(float(value))
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key}: expected a non-empty string{shown}")
    # configparser strips values and folds line breaks: such a value would not read back as saved.
    if value != value.strip() or "\n" in value or "\r" in value:
        raise ValueError(f"{key}: must not start or end with spaces or contain a line break")
    return value


def _make_private_dirs(directory: Path) -> None:
    missing: list[Path] = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        try:
            created.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made by someone else meanwhile: not ours to chmod
        if os.name == "posix":
            os.chmod(created, 0o700)  # mkdir's mode is masked by the umask


def _write_atomically(target: Path, parser: configparser.ConfigParser) -> None:
    # mkstemp creates the file 0600 and exclusively; os.replace makes the swap atomic, so readers
    # see the old file or the new one, never a partial or briefly world-readable one.
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        if os.name == "posix":
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(_HEADER)
            parser.write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
