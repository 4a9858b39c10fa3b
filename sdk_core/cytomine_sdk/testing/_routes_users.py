"""Handlers of the server and its callers: ping, the IAM's token endpoint (2025/2026) and users."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from ._envelopes import list_response
from ._errors import repository_not_found
from ._http import HttpError, JsonObject, Request, Response, empty_response, json_response
from ._shapes import user_json
from ._state import StubUser

if TYPE_CHECKING:
    from ._cytomine_stub import CytomineStub

#: Keycloak's token endpoint, realm ``cytomine`` under ``/iam`` (docs/server-facts.md section 1.3).
IAM_TOKEN_PATH = "/iam/realms/cytomine/protocol/openid-connect/token"

#: Versions reported by ``/server/ping`` (made up; only the shape is real).
SERVER_VERSIONS: dict[str, str] = {"2026": "2026.1.0-stub", "2025": "2025.1.0-stub", "legacy": "3.0.4-stub"}


def h_ping(stub: CytomineStub, req: Request) -> Response:
    return json_response(
        {
            "alive": True,
            "version": SERVER_VERSIONS[stub.generation],
            "serverURL": stub.host,
            "serverID": stub.server_id,
        }
    )


# -- IAM (Keycloak) token endpoint, 2025/2026 --


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, status,
                         headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _jwt(claims: JsonObject) -> str:
    """A JWT-shaped token (header.payload.signature, base64url); the signature is random bytes:
    nothing here checks it, and the servers read `preferred_username` from the payload."""
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    header = json.dumps({"alg": "RS256", "typ": "JWT", "kid": "stub"}).encode()
    return ".".join((part(header), part(json.dumps(claims).encode()), part(uuid.uuid4().bytes * 2)))


def _lifespan(seconds: float) -> int | float:
    return int(seconds) if float(seconds).is_integer() else seconds


def h_iam_token(stub: CytomineStub, req: Request) -> Response:
    """``POST /iam/realms/cytomine/protocol/openid-connect/token`` as Keycloak answers it: the
    password and refresh_token grants of the public client ``core``."""
    if req.content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return _oauth_error(400, "invalid_request", "Invalid content type")
    form = {name: values[0] for name, values in parse_qs(req.body.decode("utf-8", "replace")).items()}
    if form.get("client_id") != "core":
        return _oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
    grant = form.get("grant_type")
    now = time.monotonic()
    if grant == "password":
        username = form.get("username", "")
        user = stub.state.user_by_username(username)
        if user is None or stub.passwords.get(username) != form.get("password"):
            return _oauth_error(401, "invalid_grant", "Invalid user credentials")
    elif grant == "refresh_token":
        issued = stub._refresh_tokens.get(form.get("refresh_token", ""))
        if issued is None or now >= issued[1]:
            return _oauth_error(400, "invalid_grant", "Token is not active")
        user = stub.state.user_by_username(issued[0])
        if user is None:
            return _oauth_error(400, "invalid_grant", "Session not active")
    else:
        return _oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")
    access, refresh = stub._issue_tokens(user.username, now)
    return json_response(
        {
            "access_token": access,
            "expires_in": _lifespan(stub.token_lifespan),
            "refresh_expires_in": _lifespan(stub.refresh_lifespan),
            "refresh_token": refresh,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": str(uuid.uuid4()),
            "scope": "profile email",
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _caller(req: Request) -> StubUser:
    if req.user is None:  # routes are authenticated before handlers run
        raise HttpError(empty_response(401))
    return req.user


# -- users --


def h_current_user(stub: CytomineStub, req: Request) -> Response:
    return json_response(user_json(stub, _caller(req), current=True))


def _get_user(stub: CytomineStub, req: Request, ident: int) -> StubUser:
    user = stub.state.users.get(ident)
    if user is None:
        raise repository_not_found(stub, req, "User", ident)
    return user


def h_user(stub: CytomineStub, req: Request) -> Response:
    user = _get_user(stub, req, req.path_int("id"))
    return json_response(user_json(stub, user, by_id=True))


def h_user_list(stub: CytomineStub, req: Request) -> Response:
    return list_response(stub, req, [user_json(stub, u) for u in stub.state.users.values()])
