"""No secret in any log record, of any logger, at any level, while requests fail and are retried.

Every record of every logger is captured at DEBUG on the root logger while the SDK sends requests
that a misbehaving server answers with 503s (so urllib3's retry logger runs), malformed headers
(so urllib3 logs an exception) and 404s, with API keys, a bearer token, a token in the query of a
download URL and a password in the host URL.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.downloads import download_url
from cytomine_sdk.exceptions import AuthenticationError, NotFoundError
from tests.support.fault_server import Exchange, FaultServer

PUBLIC_KEY = "PUBLIC-faults"
PRIVATE_KEY = "PRIVATE-KEY-faults-s3cret"
TOKEN = "BEARER-TOKEN-faults-s3cret"
QUERY_TOKEN = "QUERY-TOKEN-faults-s3cret"
PASSWORD = "URL-PASSWORD-faults-s3cret"


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[list[logging.LogRecord]]:
    root = logging.getLogger()
    handler = _Everything()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _twice_unavailable() -> Callable[[Exchange], None]:
    """A script answering 503, 503, then 200 for each path; 404 for /missing; bad headers for
    /bad-headers."""
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def script(ex: Exchange) -> None:
        path = ex.request.target.split("?")[0]
        if path.endswith("/missing"):
            ex.respond(404, b'{"errors": {"message": "no such thing"}}')
        elif path.endswith("/bad-headers"):
            # A header line without a colon: urllib3 logs a warning with the exception (exc_info).
            ex.send_raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nnot a header line\r\n\r\n{}")
        else:
            with lock:
                seen[path] += 1
                attempt = seen[path]
            if attempt <= 2:
                ex.respond(503, b"busy")
            else:
                ex.respond(200, b'{"id": 1}')

    return script


def _signatures(server: FaultServer) -> list[str]:
    values = [r.header("authorization") for r in server.requests]
    return [v.split(":", 1)[1] for v in values if v.startswith("CYTOMINE ")]


def _everything_said(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    # record.getMessage() and the exception text (Formatter adds exc_info and stack_info)
    return "\n".join(f"{r.getMessage()}\n{formatter.format(r)}" for r in records)


def test_no_secret_in_any_log_record_under_retries_and_errors(
    captured: list[logging.LogRecord], tmp_path: Path
) -> None:
    with FaultServer(_twice_unavailable()) as server:
        port = server.url.rsplit(":", 1)[1]
        quick = {"retry_backoff": 0, "max_retries": 3}

        keys = ApiClient(Configuration(server.url, public_key=PUBLIC_KEY, private_key=PRIVATE_KEY, **quick))
        written = download_url(keys, f"/api/imageinstance/5/download?authorization={QUERY_TOKEN}&format=png",
                               dest=tmp_path / "a.bin")
        assert written.read_bytes() == b'{"id": 1}'
        assert keys.send("GET", "/api/project/1.json").read() == b'{"id": 1}'
        with pytest.raises(NotFoundError):
            keys.send("GET", f"/api/missing?authorization={QUERY_TOKEN}")
        keys.send("GET", f"/api/bad-headers?authorization={QUERY_TOKEN}").read()

        bearer = ApiClient(Configuration(server.url, token=TOKEN, **quick))
        assert bearer.send("GET", "/api/project/2.json").read() == b'{"id": 1}'

        with_password = ApiClient(Configuration(f"http://someone:{PASSWORD}@127.0.0.1:{port}",
                                                public_key=PUBLIC_KEY, private_key=PRIVATE_KEY, **quick))
        assert with_password.send("GET", "/api/project/3.json").read() == b'{"id": 1}'
        with pytest.raises(NotFoundError) as missing:
            with_password.send("GET", "/api/missing")

        signatures = _signatures(server)
        sent = [r.header("authorization") for r in server.requests]
        bearer_sent = [value for value in sent if value.startswith("Bearer")]

    assert len(signatures) >= 10 and bearer_sent == [f"Bearer {TOKEN}"] * 3
    # The paths that log were really taken: urllib3's retry logger, its request lines, its
    # exception-carrying warning, and the SDK's own retry messages.
    names = {r.name for r in captured}
    assert {"urllib3.util.retry", "urllib3.connectionpool", "cytomine_sdk"} <= names
    retried = [r.getMessage() for r in captured if r.name == "urllib3.util.retry"]
    assert any("download" in m and "authorization=<redacted>" in m for m in retried)
    assert any("someone:" in m and "/api/project/3.json" in m for m in retried)
    assert any(r.exc_info or r.exc_text for r in captured if r.name.startswith("urllib3"))

    said = _everything_said(captured) + "\n" + str(missing.value)
    for secret in [PRIVATE_KEY, TOKEN, QUERY_TOKEN, PASSWORD, *signatures]:
        assert secret not in said, secret
    assert "someone:<redacted>@127.0.0.1" in str(missing.value)


def test_a_failing_request_through_a_host_with_a_password_names_it_without_the_password() -> None:
    def not_found(ex: Exchange) -> None:
        ex.respond(404, b'{"errors": {"message": "no such project"}}')

    with FaultServer(not_found) as server:
        port = server.url.rsplit(":", 1)[1]
        config = Configuration(f"http://reader:{PASSWORD}@127.0.0.1:{port}", token=TOKEN)
        with pytest.raises(NotFoundError) as info:
            ApiClient(config).project_api.retrieve(7)
    assert info.value.status == 404
    for text in (str(info.value), info.value.url, repr(info.value), repr(config)):
        assert PASSWORD not in text and TOKEN not in text
        assert "reader:<redacted>@127.0.0.1" in text


def test_no_password_or_iam_token_in_any_log_record_repr_or_error(captured: list[logging.LogRecord]) -> None:
    """An IAM login through its whole life: a 503 from the IAM (retried), login, a 401 (refresh),
    an ended session (refused refresh, new login), a wrong password; at DEBUG on every logger."""
    from tests.support.stub import IAM_TOKEN_PATH, CytomineStub, Request, Response, h_iam_token

    wrong = "WRONG-PASSWORD-faults-s3cret"
    with CytomineStub("2026") as stub:
        busy = [True]

        def once_unavailable(running: CytomineStub, req: Request) -> Response:
            if busy:
                busy.pop()
                return Response(503, b"busy", {})
            return h_iam_token(running, req)

        stub.add_route("POST", IAM_TOKEN_PATH, once_unavailable, generations=("2026",), public=True)
        config = Configuration(stub.host, username=stub.username, password=stub.password, retry_backoff=0)
        api = ApiClient(config)
        api.whoami()
        stub.expire_tokens()
        api.whoami()
        stub.expire_tokens(access=True, refresh=True)
        api.whoami()
        with pytest.raises(AuthenticationError) as refused:
            ApiClient(Configuration(stub.host, username=stub.username, password=wrong)).whoami()
        secrets = [stub.password, wrong, *stub.issued_tokens()]
        grants = [r.status for r in stub.token_requests()]

    assert grants == [503, 200, 200, 400, 200, 401] and len(secrets) == 2 + 6
    names = {r.name for r in captured}
    assert {"urllib3.util.retry", "urllib3.connectionpool", "cytomine_sdk"} <= names
    said = "\n".join([
        _everything_said(captured), str(refused.value), repr(refused.value), refused.value.body_excerpt,
        repr(config), repr(api.configuration), repr(api._tokens), repr(vars(api)),
    ])
    assert "IAM: logged in as 'demo'" in said and "logging in again" in said
    for secret in secrets:
        assert secret not in said, secret
