"""Where a client's bearer token comes from: given once, or refreshed as it expires.

The client asks its `TokenSource` for the token of each request (`current()`), and once more
after a 401 (`refresh(rejected)`): a source that can get a fresh token (an IAM login, a user's
callable) does so; a token given as is cannot be refreshed. Tokens are secrets: no source logs
them or puts them in a repr or an error.

Sources: `StaticToken` (``Configuration(token=...)``), `ProvidedToken`
(``Configuration(token_provider=...)``) and `cytomine_sdk.iam.PasswordLogin`
(``Configuration(username=..., password=...)``).
"""

from __future__ import annotations

import re
import threading
from typing import Final, Protocol

from cytomine_sdk.configuration import Configuration, TokenProvider
from cytomine_sdk.iam import PasswordLogin, PostForm

# What a header value may carry (RFC 6750 token68).
_TOKEN68: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class TokenSource(Protocol):
    """Gives the bearer token to send (implementations are thread-safe)."""

    def current(self) -> str:
        """The token to send now (refreshed first if it is about to expire)."""
        ...

    def refresh(self, rejected: str) -> bool:
        """After a 401 answered to `rejected`: get another token if possible; True when the
        request is worth sending again (another thread may already have refreshed it)."""
        ...


class StaticToken:
    """A token obtained elsewhere (``Configuration(token=...)``): sent as is, never refreshed."""

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = token

    def current(self) -> str:
        return self._token

    def refresh(self, rejected: str) -> bool:
        return False

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"


class ProvidedToken:
    """A token from the user's callable (``Configuration(token_provider=...)``).

    The callable is called before each request and once more after a 401 (the request is sent
    again when the token changed), never by two threads at once: it may refresh its token itself
    without a lock of its own.
    """

    __slots__ = ("_lock", "_provider")

    def __init__(self, provider: TokenProvider) -> None:
        self._provider = provider
        self._lock = threading.Lock()

    def current(self) -> str:
        with self._lock:
            token = self._provider()
        if not isinstance(token, str):
            raise TypeError(f"token_provider: returned {type(token).__name__}, expected the token as a str")
        if not _TOKEN68.fullmatch(token):
            # The value is never shown: it may be a token with a stray character.
            prefix = " (without a 'Bearer ' prefix)" if token.lower().startswith("bearer ") else ""
            raise ValueError(f"token_provider: returned a value that is not a bearer token{prefix}")
        return token

    def refresh(self, rejected: str) -> bool:
        return self.current() != rejected

    def _after_fork(self) -> None:
        """In a forked child (see `cytomine_sdk.client`): a new lock, as another thread of the
        parent may have held this one when it forked."""
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        # Its name only: the repr of a callable object could show the token it holds.
        return f"ProvidedToken({getattr(self._provider, '__qualname__', type(self._provider).__name__)})"


def token_source(configuration: Configuration, post: PostForm) -> TokenSource | None:
    """The token source a configuration asks for, or None (API keys, or anonymous).

    `post` sends a form without credentials: how an IAM login reaches the IAM (see
    `cytomine_sdk.iam.PostForm`).
    """
    if configuration.token:
        return StaticToken(configuration.token)
    if configuration.token_provider is not None:
        return ProvidedToken(configuration.token_provider)
    if configuration.username is not None and configuration.password is not None:
        return PasswordLogin(configuration.token_url, configuration.username, configuration.password, post)
    return None
