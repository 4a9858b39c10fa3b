"""Logging in to a Cytomine server's IAM (Keycloak, 2025 and 2026 servers) with a username and
password, and keeping the bearer token fresh.

The IAM serves realm ``cytomine`` under ``{host}/iam``; its public client ``core`` allows the
password grant (docs/server-facts.md section 1.3)::

    POST {iam}/realms/cytomine/protocol/openid-connect/token
    grant_type=password&client_id=core&username=...&password=...       (log in)
    grant_type=refresh_token&client_id=core&refresh_token=...          (refresh)

and answers ``{"access_token", "expires_in", "refresh_token", "refresh_expires_in", ...}``.
`PasswordLogin` logs in on the first request, renews the access token before it expires (with the
refresh token, or by logging in again once that one has expired or is refused), and once more
when the server answers 401 to it. The token, the refresh token and the password are never
logged, shown in a repr or put in an error.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final, NamedTuple

from cytomine_sdk.exceptions import APIStatusError, AuthenticationError, InvalidResponseError

__all__ = ["CLIENT_ID", "REALM", "PasswordLogin", "PostForm"]

logger: logging.Logger = logging.getLogger("cytomine_sdk")

#: The Keycloak realm and public client of Cytomine's IAM.
REALM: Final = "cytomine"
CLIENT_ID: Final = "core"
#: What the client gives to send a form: ``post(url, form) -> body``, through its own connection
#: pool without credentials (timeouts, retries, TLS and proxy settings apply); error statuses
#: raise `APIStatusError`.
PostForm = Callable[[str, Mapping[str, str]], bytes]

# A token is renewed this long before it expires, or a quarter of its lifespan when that is
# shorter: with Keycloak's 300 s tokens, after 270 s. The lifespan is counted from when the
# request was sent, so a token is never taken for fresher than it is.
_RENEW_MARGIN: Final = 30.0
_RENEW_FRACTION: Final = 0.25
# What a header value may carry (RFC 6750 token68): a token with a line break or a space would
# corrupt the request's headers.
_TOKEN68: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# Keycloak always says how long a token lives; a server that does not gets a short assumed life.
_ASSUMED_LIFESPAN: Final = 60.0


class _Tokens(NamedTuple):
    access: str
    renew_at: float  # time.monotonic() from which `access` is renewed before being sent
    refresh: str | None
    refresh_until: float | None  # after this, log in again rather than refresh (None: no known end)


def _renew_time(sent: float, lifespan: float) -> float:
    return sent + lifespan - min(_RENEW_MARGIN, lifespan * _RENEW_FRACTION)


class PasswordLogin:
    """A token source that logs in to the IAM with a username and password (thread-safe).

    Lazy: nothing is sent before the first `current()`. One lock guards logins and refreshes, so
    threads needing a token while it is renewed wait for that one renewal instead of each sending
    their own. A refused login (wrong password, disabled account) is not tried again by this
    source: the same error is raised at once, so that a client used by many threads cannot
    trigger the IAM's brute-force protection.
    """

    __slots__ = ("_lock", "_password", "_post", "_refused", "_state", "_token_url", "_username")

    def __init__(self, token_url: str, username: str, password: str, post: PostForm) -> None:
        self._token_url = token_url
        self._username = username
        self._password = password
        self._post = post
        self._lock = threading.Lock()
        self._state: _Tokens | None = None
        self._refused: APIStatusError | None = None

    def current(self) -> str:
        """The access token to send, obtained or renewed first when it is missing or due."""
        state = self._state  # read once: another thread may replace it
        if state is not None and time.monotonic() < state.renew_at:
            return state.access
        with self._lock:
            state = self._state
            if state is None or time.monotonic() >= state.renew_at:
                # Another thread may have renewed it while this one waited for the lock.
                state = self._state = self._renew(state)
            return state.access

    def refresh(self, rejected: str) -> bool:
        """The server answered 401 to `rejected`: renew it unless another thread already did;
        True (send again) when a newer token is there."""
        with self._lock:
            state = self._state
            if state is None:
                return False  # no token was given out: `rejected` is not one of this source's
            if state.access != rejected:
                return True
            self._state = self._renew(state)
            return True

    def _after_fork(self) -> None:
        """In a forked child (see `cytomine_sdk.client`): a new lock, as another thread of the
        parent may have held this one (logging in) when it forked. The tokens already obtained
        are kept: the child uses them, and renews them on its own."""
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PasswordLogin(username={self._username!r}, token_url={self._token_url!r})"

    def _renew(self, state: _Tokens | None) -> _Tokens:
        """A new token: refreshed while the refresh token lasts, else by logging in (lock held)."""
        if state is not None and state.refresh is not None and (
            state.refresh_until is None or time.monotonic() < state.refresh_until
        ):
            try:
                tokens = self._grant(
                    {"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": state.refresh}, state
                )
            except APIStatusError as exc:
                if exc.status not in (400, 401) or _oauth_error(exc) is None:
                    raise
                # Expired, revoked, or its session ended (e.g. "Token is not active",
                # "Session not active"): the password gives a new session.
                logger.info(
                    "IAM: the refresh token was refused (%s); logging in again as %r",
                    exc.server_message or exc.status, self._username,
                )
            else:
                logger.debug("IAM: token refreshed for %r", self._username)
                return tokens
        return self._login()

    def _login(self) -> _Tokens:
        if self._refused is not None:
            raise self._refused.with_hint(self._refused.hint or "")
        form = {
            "grant_type": "password", "client_id": CLIENT_ID, "username": self._username, "password": self._password,
        }
        try:
            tokens = self._grant(form, None)
        except APIStatusError as exc:
            raise self._explained(exc) from None
        logger.debug("IAM: logged in as %r", self._username)
        return tokens

    def _explained(self, exc: APIStatusError) -> APIStatusError:
        """The error of a failed login, saying what to check; remembered when the IAM refused
        the credentials."""
        where = f"the IAM at {self._token_url.split('/realms/')[0]}"
        if exc.status in (400, 401) and _oauth_error(exc) is not None:
            refused = AuthenticationError(
                status=exc.status, reason=exc.reason, method=exc.method, url=exc.url, body=exc.body,
                headers=exc.headers,
                hint=f"{where} refused the login of user {self._username!r}: check the username and password",
            )
            self._refused = refused
            return refused
        if exc.status in (401, 404, 405):
            return exc.with_hint(
                f"{where} did not answer as a Keycloak token endpoint: legacy servers have no IAM (use "
                "API keys); if the IAM is elsewhere, set iam_url"
            )
        return exc

    def _grant(self, form: Mapping[str, str], previous: _Tokens | None) -> _Tokens:
        sent = time.monotonic()
        body = self._post(self._token_url, form)
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise self._invalid("not a JSON object")
        access = data.get("access_token")
        if not isinstance(access, str) or not _TOKEN68.fullmatch(access):
            raise self._invalid("no access_token, or one that cannot be sent in a header")
        lifespan = _seconds(data.get("expires_in")) or _ASSUMED_LIFESPAN
        refresh = data.get("refresh_token")
        if isinstance(refresh, str) and refresh:
            refresh_lifespan = _seconds(data.get("refresh_expires_in"))
            # 0 or none: a refresh token with no set end (Keycloak's offline tokens).
            refresh_until = _renew_time(sent, refresh_lifespan) if refresh_lifespan else None
            return _Tokens(access, _renew_time(sent, lifespan), refresh, refresh_until)
        if previous is not None:  # a refresh answer without a new refresh token: the old one stays
            return _Tokens(access, _renew_time(sent, lifespan), previous.refresh, previous.refresh_until)
        return _Tokens(access, _renew_time(sent, lifespan), None, None)

    def _invalid(self, what: str) -> InvalidResponseError:
        # The body is not quoted: it may hold tokens.
        return InvalidResponseError(
            f"the IAM's token answer is unusable: {what}", status=200, method="POST", url=self._token_url,
            body="(not shown: it may hold tokens)",
        )


def _oauth_error(exc: APIStatusError) -> str | None:
    """The OAuth 2 error code of an IAM answer (``invalid_grant``, ...), or None."""
    errors = exc.errors
    code = errors.get("error") if isinstance(errors, dict) else None
    return code if isinstance(code, str) and code else None


def _seconds(value: object) -> float:
    """A lifespan in seconds from the IAM's answer; 0 when absent or not a positive number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return 0.0
    return float(value)
