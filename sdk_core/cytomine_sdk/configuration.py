"""Configuration of a Cytomine client: server, credentials, signing scheme, timeouts, TLS."""

from __future__ import annotations

import inspect
import ipaddress
import os
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal, get_args
from urllib.parse import urlsplit

from cytomine_sdk.exceptions import redact_url
from cytomine_sdk.signing import SIGNATURE_SETTINGS, SignatureSetting

if TYPE_CHECKING:
    import argparse

    from cytomine_sdk.profiles import StrPath

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_MAX_BINARY_IN_MEMORY = 64 << 20
DEFAULT_MAX_RETRY_WAIT = 60.0
# Environment variables read by from_env and from_args, and the setting each gives.
ENV_VARS = {
    "CYTOMINE_HOST": "host",
    "CYTOMINE_PUBLIC_KEY": "public_key",
    "CYTOMINE_PRIVATE_KEY": "private_key",
    "CYTOMINE_TOKEN": "token",
    "CYTOMINE_USERNAME": "username",
    "CYTOMINE_PASSWORD": "password",
    "CYTOMINE_SIGNATURE": "signature",
}


# The kinds of credentials and their settings: a configuration holds one kind at most, and a
# layer (profile, environment, command line, overrides) giving one kind replaces the others.
CREDENTIAL_KINDS: dict[str, tuple[str, ...]] = {
    "keys": ("public_key", "private_key"),
    "token": ("token",),
    "password": ("username", "password"),
    "token_provider": ("token_provider",),
}
#: What `Configuration(token_provider=...)` takes: a callable returning the bearer token to send.
TokenProvider = Callable[[], str]


class InsecureTransportWarning(UserWarning):
    """API keys, a token or a password are about to be used over plain http with a host (or
    image server, or IAM) that is not loopback."""


def normalize_host(host: str, name: str = "host") -> str:
    """`host` as a base URL: scheme added (https) when missing, no trailing slash.

    A base path is kept (`https://example.org/cytomine` serves `/cytomine/api/...`). `name` is
    the argument named in errors, which never show a password or token the URL holds.
    """
    if not isinstance(host, str) or not host.strip():
        raise ValueError(f"{name}: expected the server URL, e.g. 'https://cytomine.example.org'")
    host = host.strip()
    if "://" not in host:
        host = "https://" + host
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name}: {redact_url(host)!r} is not an http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError(f"{name}: {redact_url(host)!r} must not contain a query or fragment")
    path = parts.path.rstrip("/")
    if name == "host" and path.lower().endswith("/api"):
        # Every operation's path starts with /api: such a host would call /api/api/... (404s).
        root = f"{parts.scheme}://{parts.netloc}{path[:-4]}"
        raise ValueError(
            f"host: {redact_url(host)!r} ends in /api; give the server's root URL, e.g. {redact_url(root)!r}"
        )
    return f"{parts.scheme}://{parts.netloc}{path}"


class Configuration:
    """Where and how to reach a Cytomine server.

    Args:
        host: server URL, e.g. ``https://cytomine.example.org`` (scheme defaults to https).
        public_key, private_key: the user's API keys (Cytomine account page); every request is
            signed with them.
        token: a bearer token (2025 and 2026 servers) to send instead of keys, obtained elsewhere:
            sent as is, never refreshed.
        username, password: log in to the server's IAM (Keycloak, 2025 and 2026 servers) instead
            of using keys: the client gets a bearer token with them on its first request and
            refreshes it before it expires (see the README, "Logging in with a username and
            password"). The password is sent to the IAM only, never to the API.
        token_provider: a callable returning the bearer token to send, for tokens your own code
            obtains and refreshes: called (one call at a time) before each request, and once more
            after a 401, the request being re-sent if the token changed. Keep it cheap (return a
            cached token until it nears expiry).
        signature: the signing scheme, ``"2026"``, ``"2025"``, ``"legacy"`` or ``"auto"`` (default):
            try the 2026 scheme; on a 401 retry once with the 2025/legacy scheme and keep using the
            scheme that was last accepted.
        connect_timeout, read_timeout: seconds (defaults 10 and 60); per call, pass
            ``timeout=seconds`` or ``timeout=(connect, read)`` to any operation.
        verify_ssl, ssl_ca_cert: TLS certificate checks (on by default) and a custom CA bundle.
        proxy: URL of an HTTP(S) proxy.
        pool_maxsize: connections kept open per host.
        max_retries: how many times a failed request is re-sent (default 3; 0 disables): on
            connection errors, timeouts and statuses 429, 502, 503 and 504, with exponential
            backoff and jitter, honouring Retry-After. Only idempotent methods (GET, HEAD, PUT,
            DELETE, OPTIONS) are retried unless `retry_non_idempotent` is set.
        retry_backoff: base of the exponential backoff in seconds (0.5 -> 0.5, 1, 2, ... plus jitter).
        max_retry_wait: the longest wait before a retry, Retry-After included (seconds).
        retry_non_idempotent: also retry POST and PATCH (only for requests safe to repeat).
        pims_url: URL of the image server (PIMS: uploads, imports), when it is not reached at the host.
        iam_url: URL of the IAM (Keycloak) that `username` and `password` log in to; defaults
            to ``{host}/iam``. Tokens come from its realm ``cytomine``, client ``core``.

    URLs may hold a ``user:password@``; the password is redacted in `repr()`, logs and errors.

    Warns:
        InsecureTransportWarning: keys, a token or a password would be used over plain
            ``http://`` with a `host`, `pims_url` or `iam_url` that is not loopback (127.0.0.0/8,
            ::1, localhost): a token or password would travel in clear, and signatures, whose date
            the servers never check for freshness, could be captured and replayed.
    """

    # Read by the generated ApiClient when it builds URLs.
    safe_chars_for_path_param = ""
    ignore_operation_servers = False
    temp_folder_path: str | None = None
    client_side_validation = True

    def __init__(
        self,
        host: str,
        *,
        public_key: str | None = None,
        private_key: str | None = None,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        token_provider: TokenProvider | None = None,
        signature: SignatureSetting = "auto",
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        verify_ssl: bool = True,
        ssl_ca_cert: str | None = None,
        proxy: str | None = None,
        pool_maxsize: int = 10,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_backoff: float = 0.5,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        retry_non_idempotent: bool = False,
        pims_url: str | None = None,
        iam_url: str | None = None,
        max_binary_in_memory: int = DEFAULT_MAX_BINARY_IN_MEMORY,
    ) -> None:
        self.host: str = normalize_host(host)
        if (public_key is None) != (private_key is None):
            missing = "private_key" if private_key is None else "public_key"
            raise ValueError(f"{missing}: both public_key and private_key are needed to sign requests")
        if (username is None) != (password is None):
            missing = "password" if password is None else "username"
            raise ValueError(f"{missing}: both username and password are needed to log in")
        for name, value in (
            ("public_key", public_key), ("private_key", private_key), ("token", token), ("username", username),
        ):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"{name}: expected a non-empty string")
        # A password is taken as typed (spaces included); its value is never shown.
        if password is not None and (not isinstance(password, str) or not password):
            raise ValueError("password: expected a non-empty string")
        if token_provider is not None and not callable(token_provider):
            raise ValueError("token_provider: expected a callable returning the token (a str)")
        _check_one_kind_of_credentials(
            {"public_key": public_key, "token": token, "username": username, "token_provider": token_provider}
        )
        if signature not in SIGNATURE_SETTINGS:
            raise ValueError(f"signature: expected one of {', '.join(get_args(SignatureSetting))}, got {signature!r}")
        for name, seconds in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout)):
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
                raise ValueError(f"{name}: expected a positive number of seconds, got {seconds!r}")
        if isinstance(pool_maxsize, bool) or not isinstance(pool_maxsize, int) or pool_maxsize < 1:
            raise ValueError(f"pool_maxsize: expected a positive integer, got {pool_maxsize!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries: expected an integer >= 0, got {max_retries!r}")
        for name, seconds in (("retry_backoff", retry_backoff), ("max_retry_wait", max_retry_wait)):
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                raise ValueError(f"{name}: expected a number of seconds >= 0, got {seconds!r}")
        self.public_key = public_key
        self.private_key = private_key
        self.token = token
        self.username = username
        self.password = password
        self.token_provider = token_provider
        self.signature: SignatureSetting = signature
        self.connect_timeout: float = float(connect_timeout)
        self.read_timeout: float = float(read_timeout)
        self.verify_ssl = verify_ssl
        self.ssl_ca_cert = ssl_ca_cert
        self.proxy = proxy
        self.pool_maxsize = pool_maxsize
        self.max_retries = max_retries
        self.retry_backoff: float = float(retry_backoff)
        self.max_retry_wait: float = float(max_retry_wait)
        self.retry_non_idempotent: bool = bool(retry_non_idempotent)
        self.pims_url: str | None = normalize_host(pims_url, "pims_url") if pims_url is not None else None
        self.iam_url: str | None = normalize_host(iam_url, "iam_url") if iam_url is not None else None
        if (
            isinstance(max_binary_in_memory, bool)
            or not isinstance(max_binary_in_memory, int)
            or max_binary_in_memory < 0
        ):
            raise ValueError(f"max_binary_in_memory: expected a number of bytes >= 0, got {max_binary_in_memory!r}")
        self.max_binary_in_memory = max_binary_in_memory
        credentials: _Credentials | None = (
            "keys" if public_key is not None
            else "token" if token is not None or token_provider is not None
            else "password" if username is not None
            else None
        )
        if credentials is not None:
            _warn_if_plain_http("host", self.host, credentials)
            if self.pims_url is not None:
                _warn_if_plain_http("pims_url", self.pims_url, credentials)
            if credentials == "password" and self.iam_url is not None:
                _warn_if_plain_http("iam_url", self.iam_url, credentials)

    @property
    def token_url(self) -> str:
        """Where `username` and `password` get tokens: the token endpoint of the IAM's
        ``cytomine`` realm (``{iam_url}/realms/cytomine/protocol/openid-connect/token``)."""
        return f"{self.iam_url or self.host + '/iam'}/realms/cytomine/protocol/openid-connect/token"

    @classmethod
    def from_env(cls, **overrides: object) -> Configuration:
        """Read `CYTOMINE_HOST`, `CYTOMINE_PUBLIC_KEY`, `CYTOMINE_PRIVATE_KEY`, `CYTOMINE_TOKEN`,
        `CYTOMINE_USERNAME`, `CYTOMINE_PASSWORD` and `CYTOMINE_SIGNATURE`; keyword arguments
        override them.

        If `CYTOMINE_PROFILE` is set, that profile (see `cytomine_sdk.profiles`) is loaded first and
        the variables above override it. With neither a host nor `CYTOMINE_PROFILE`, the
        ``[default]`` profile of the profiles file is used when there is one (it is never merged
        with a host given elsewhere). In every layer, credentials of one kind (keys, token,
        username/password, token_provider) replace those of another kind from the layers below;
        empty variables and ``None`` keywords count as not given.
        """
        return cls._from_layers(
            os.environ.get("CYTOMINE_PROFILE") or None,
            [_env_settings(), overrides],
            "host: set CYTOMINE_HOST or CYTOMINE_PROFILE, pass host=, or add a [default] profile to",
        )

    @classmethod
    def from_profile(cls, name: str = "default", *, path: StrPath | None = None, **overrides: object) -> Configuration:
        """The configuration saved as profile `name` (see `cytomine_sdk.profiles`).

        Args:
            name: the profile name.
            path: the profiles file; defaults to `cytomine_sdk.profiles.config_path()`.
            overrides: `Configuration` parameters that replace the profile's (credentials of
                one kind, e.g. a token, replace the profile's of another kind, e.g. keys; ``None``
                counts as not given).
        """
        from cytomine_sdk.profiles import load_profile

        settings = _merged(load_profile(name, path), overrides)
        if "host" not in settings:
            raise ValueError(f"host: profile {name!r} has no host; add 'host = ...' to it or pass host=")
        return cls(**settings)  # type: ignore[arg-type]

    @classmethod
    def from_args(
        cls, namespace: argparse.Namespace | tuple[argparse.Namespace, list[str]], **overrides: object
    ) -> Configuration:
        """The configuration from options added by `cytomine_sdk.arguments.add_arguments`.

        Precedence: keyword `overrides` > command line > environment (as `from_env`) > profile
        (``--profile``, else `CYTOMINE_PROFILE`, else the ``[default]`` profile when no host is
        given anywhere). Also applies ``--log_level``/``--verbose`` to the `cytomine_sdk` logger.

        Args:
            namespace: what `parse_args()` returns, or the `(namespace, rest)` tuple of
                `parse_known_args()`. Missing attributes and ``None`` values count as not given.
            overrides: `Configuration` parameters that win over everything else.

        Raises:
            ValueError: ``--base_path`` is not the official client's ``/api/`` (put a server
                prefix in ``--host``), or the combined settings are invalid.
        """
        from cytomine_sdk.arguments import _connection_args

        profile, command_line = _connection_args(namespace)
        return cls._from_layers(
            profile or os.environ.get("CYTOMINE_PROFILE") or None,
            [_env_settings(), command_line, overrides],
            "host: pass --host, set CYTOMINE_HOST or CYTOMINE_PROFILE, use --profile, or add a [default] profile to",
        )

    @classmethod
    def _from_layers(cls, profile: str | None, layers: list[Mapping[str, object]], no_host: str) -> Configuration:
        from cytomine_sdk import profiles

        given = [{key: value for key, value in layer.items() if value is not None} for layer in layers]
        if profile is not None:
            base = profiles.load_profile(profile)
        elif not any("host" in layer for layer in given) and "default" in profiles.list_profiles():
            # Only when no host is given at all, so the default keys never go to another server.
            base = profiles.load_profile("default")
        else:
            base = {}
        settings = _merged(base, *given)
        if "host" not in settings:
            raise ValueError(f"{no_host} {profiles.config_path()}")
        return cls(**settings)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> Configuration:
        """A copy with some settings changed, validated like the constructor.

        Credentials of one kind given in `changes` (keys, token, username/password,
        token_provider) replace those of another kind.
        """
        names = [p for p in inspect.signature(Configuration.__init__).parameters if p != "self"]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise TypeError(f"{unknown[0]}: not a Configuration setting (one of {', '.join(names)})")
        current = {name: getattr(self, name) for name in names}
        return Configuration(**_merged(current, changes))  # type: ignore[arg-type]

    def __getstate__(self) -> dict[str, object]:
        """What a pickle holds: every setting, the secrets included (a pickled configuration or
        client must be stored and sent as a secret). A `token_provider` must pickle too."""
        provider = self.token_provider
        if provider is not None:
            import pickle  # here: only pickling needs it, and it costs every program 1 ms to import

            try:
                pickle.dumps(provider)
            except Exception as exc:
                name = getattr(provider, "__qualname__", type(provider).__name__)
                raise pickle.PicklingError(
                    f"token_provider: {name} cannot be pickled ({type(exc).__name__}: {exc}), so neither can "
                    "this configuration nor a client using it; give a function defined at module level, or an "
                    "instance of a module-level class whose attributes pickle (not a lambda, a nested function "
                    "or an object holding a lock or a connection)"
                ) from exc
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    # Copies are not pickles: a token_provider need not pickle to be copied. Every other setting is
    # immutable, and the token_provider is shared by deep copies too (as functions are).
    def __copy__(self) -> Configuration:
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __deepcopy__(self, memo: dict[int, object]) -> Configuration:
        return self.__copy__()

    def __repr__(self) -> str:
        auth = (
            "keys" if self.public_key
            else "token" if self.token
            else "password" if self.username
            else "token_provider" if self.token_provider is not None
            else "anonymous"
        )
        key = (
            f", public_key={self.public_key!r}" if self.public_key
            else f", username={self.username!r}" if self.username
            else ""
        )
        # URLs may carry a `user:password@`: shown with the password redacted.
        urls = "".join(
            f", {name}={redact_url(url)!r}"
            for name, url in (("pims_url", self.pims_url), ("iam_url", self.iam_url), ("proxy", self.proxy))
            if url
        )
        return (
            f"Configuration(host={redact_url(self.host)!r}, auth={auth}{key}, signature={self.signature!r}{urls}, "
            "private_key/token/password=<redacted>)"
        )


def _env_settings() -> dict[str, object]:
    return {setting: value for name, setting in ENV_VARS.items() if (value := os.environ.get(name))}


def _merged(*layers: Mapping[str, object]) -> dict[str, object]:
    """`layers` applied in order, credentials of one kind replacing lower ones of other kinds
    (a token replaces lower keys, a username or password a lower token, ...). Within a kind,
    settings merge: a profile's username with a `CYTOMINE_PASSWORD`, for example."""
    settings: dict[str, object] = {}
    for layer in layers:
        given = {key: value for key, value in layer.items() if value is not None}
        kinds = {kind for kind, names in CREDENTIAL_KINDS.items() if any(name in given for name in names)}
        if kinds:
            for kind, names in CREDENTIAL_KINDS.items():
                if kind not in kinds:
                    for name in names:
                        settings.pop(name, None)
        settings.update(given)
    return settings


def _check_one_kind_of_credentials(given: Mapping[str, object]) -> None:
    """Refuse two kinds of credentials: which one would win is not obvious to a reader."""
    named = {"public_key": "public_key/private_key", "username": "username/password"}
    kinds = [named.get(name, name) for name, value in given.items() if value is not None]
    if len(kinds) > 1:
        raise ValueError(
            f"{kinds[-1].split('/')[0]}: give one kind of credentials ({' or '.join(kinds)}), not {len(kinds)}"
        )


def _is_loopback(hostname: str) -> bool:
    hostname = hostname.rstrip(".")
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True  # RFC 6761: localhost names resolve to loopback
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


_Credentials = Literal["keys", "token", "password"]


def _warn_if_plain_http(setting: str, url: str, credentials: _Credentials) -> None:
    """Warn when `url` (the `setting` host or pims_url) would carry credentials unencrypted."""
    parts = urlsplit(url)
    hostname = parts.hostname or ""
    if parts.scheme != "http" or _is_loopback(hostname):
        return
    if credentials == "token":
        risk = "the token would be sent unencrypted with every request to it and could be captured and reused"
    elif credentials == "password":
        risk = (
            "the password (to the IAM) or the tokens it gives (with every request) would be sent "
            "unencrypted and could be captured and reused"
        )
    else:
        # The servers never check the signed date for freshness (docs/server-facts.md 1.2), and the 2026 and
        # PIMS canonical strings hold no path: one captured signature opens many requests.
        requests = "upload and import requests" if setting == "pims_url" else "requests"
        risk = (
            f"{requests} signed with the API keys would travel unencrypted, and the servers never "
            "check the signed date for freshness, so a captured signature can be replayed"
        )
    warnings.warn(
        f"{setting}: {hostname} is reached over plain http://, so {risk}; use https:// (plain http "
        "is only safe on loopback)",
        InsecureTransportWarning,
        stacklevel=_caller_stacklevel(),
    )


def _caller_stacklevel() -> int:
    """The stacklevel pointing at the first caller outside this module (from_env & co. included)."""
    level = 3  # _warn_if_plain_http -> Configuration.__init__ -> its caller
    try:
        frame = sys._getframe(3)  # that caller, seen from here
    except ValueError:  # no such frame: let warnings fall back to its outermost one
        return level
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
        level += 1
    return level
