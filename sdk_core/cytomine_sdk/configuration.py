"""Configuration of a Cytomine client: server, credentials, signing scheme, timeouts, TLS."""

from __future__ import annotations

import os
from typing import get_args
from urllib.parse import urlsplit

from cytomine_sdk.signing import SIGNATURE_SETTINGS, SignatureSetting

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0


def normalize_host(host: str) -> str:
    """`host` as a base URL: scheme added (https) when missing, no trailing slash.

    A base path is kept (`https://example.org/cytomine` serves `/cytomine/api/...`).
    """
    if not isinstance(host, str) or not host.strip():
        raise ValueError("host: expected the server URL, e.g. 'https://cytomine.example.org'")
    host = host.strip()
    if "://" not in host:
        host = "https://" + host
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"host: {host!r} is not an http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError(f"host: {host!r} must not contain a query or fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


class Configuration:
    """Where and how to reach a Cytomine server.

    Args:
        host: server URL, e.g. ``https://cytomine.example.org`` (scheme defaults to https).
        public_key, private_key: the user's API keys (Cytomine account page); every request is
            signed with them.
        token: a bearer token (2025 and 2026 servers) to send instead of keys.
        signature: the signing scheme, ``"2026"``, ``"2025"``, ``"legacy"`` or ``"auto"`` (default):
            try the 2026 scheme; on a 401 retry once with the 2025/legacy scheme and keep using the
            scheme that was last accepted.
        connect_timeout, read_timeout: seconds (defaults 10 and 60); per call, pass
            ``_request_timeout=(connect, read)`` to any operation.
        verify_ssl, ssl_ca_cert: TLS certificate checks (on by default) and a custom CA bundle.
        proxy: URL of an HTTP(S) proxy.
        pool_maxsize: connections kept open per host.
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
        signature: SignatureSetting = "auto",
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        verify_ssl: bool = True,
        ssl_ca_cert: str | None = None,
        proxy: str | None = None,
        pool_maxsize: int = 10,
    ) -> None:
        self.host = normalize_host(host)
        if (public_key is None) != (private_key is None):
            missing = "private_key" if private_key is None else "public_key"
            raise ValueError(f"{missing}: both public_key and private_key are needed to sign requests")
        for name, value in (("public_key", public_key), ("private_key", private_key), ("token", token)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"{name}: expected a non-empty string")
        if token is not None and public_key is not None:
            raise ValueError("token: give either token or public_key/private_key, not both")
        if signature not in SIGNATURE_SETTINGS:
            raise ValueError(f"signature: expected one of {', '.join(get_args(SignatureSetting))}, got {signature!r}")
        for name, seconds in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout)):
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
                raise ValueError(f"{name}: expected a positive number of seconds, got {seconds!r}")
        if isinstance(pool_maxsize, bool) or not isinstance(pool_maxsize, int) or pool_maxsize < 1:
            raise ValueError(f"pool_maxsize: expected a positive integer, got {pool_maxsize!r}")
        self.public_key = public_key
        self.private_key = private_key
        self.token = token
        self.signature: SignatureSetting = signature
        self.connect_timeout = float(connect_timeout)
        self.read_timeout = float(read_timeout)
        self.verify_ssl = verify_ssl
        self.ssl_ca_cert = ssl_ca_cert
        self.proxy = proxy
        self.pool_maxsize = pool_maxsize

    @classmethod
    def from_env(cls, **overrides: object) -> Configuration:
        """Read `CYTOMINE_HOST`, `CYTOMINE_PUBLIC_KEY`, `CYTOMINE_PRIVATE_KEY`, `CYTOMINE_TOKEN`
        and `CYTOMINE_SIGNATURE`; keyword arguments override them."""
        env = {
            "host": os.environ.get("CYTOMINE_HOST"),
            "public_key": os.environ.get("CYTOMINE_PUBLIC_KEY"),
            "private_key": os.environ.get("CYTOMINE_PRIVATE_KEY"),
            "token": os.environ.get("CYTOMINE_TOKEN"),
            "signature": os.environ.get("CYTOMINE_SIGNATURE"),
        }
        kwargs: dict[str, object] = {k: v for k, v in env.items() if v}
        kwargs.update(overrides)
        if "host" not in kwargs:
            raise ValueError("host: set CYTOMINE_HOST or pass host=")
        return cls(**kwargs)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        auth = "keys" if self.public_key else "token" if self.token else "anonymous"
        key = f", public_key={self.public_key!r}" if self.public_key else ""
        return (
            f"Configuration(host={self.host!r}, auth={auth}{key}, signature={self.signature!r}, "
            "private_key/token=<redacted>)"
        )
