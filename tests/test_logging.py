"""Logger `cytomine_sdk`: DEBUG shows requests, never secrets; the library configures no handler."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from pytest_httpserver import HTTPServer
from urllib3.exceptions import MaxRetryError
from urllib3.util import Retry

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.exceptions import AuthenticationError, RedactingFilter, redact_url

PRIVATE_KEY = "PRIVATE-KEY-must-not-leak"
TOKEN = "TOKEN-must-not-leak"


def test_debug_logs_requests_and_no_secret(httpserver: HTTPServer, caplog: pytest.LogCaptureFixture) -> None:
    httpserver.expect_request("/api/project/1.json").respond_with_data(b'{"id": 1}', content_type="application/json")
    httpserver.expect_request("/api/project/2.json").respond_with_data(b"", status=401)
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's included
    keys = ApiClient(Configuration(httpserver.url_for(""), public_key="PUB", private_key=PRIVATE_KEY))
    keys.project_api.retrieve(1)
    with pytest.raises(AuthenticationError) as info:
        keys.project_api.retrieve(2)
    token = ApiClient(Configuration(httpserver.url_for(""), token=TOKEN))
    token.project_api.retrieve(1)
    sent = [dict(request.headers) for request, _ in httpserver.log]
    signatures = [h["Authorization"].split(":", 1)[1] for h in sent if h["Authorization"].startswith("CYTOMINE")]
    assert len(signatures) == 3  # 1, then 2 with both schemes (auto)

    text = caplog.text + repr(keys) + repr(keys.configuration) + repr(token) + str(info.value)
    assert "GET" in caplog.text and "/api/project/1.json -> 200" in caplog.text
    for secret in [PRIVATE_KEY, TOKEN, *signatures]:
        assert secret not in text
    assert any(r.name == "cytomine_sdk" and r.levelno == logging.DEBUG for r in caplog.records)


def test_tokens_in_query_strings_are_redacted_everywhere(httpserver: HTTPServer,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    httpserver.expect_request("/api/imageinstance/5/download").respond_with_data(b"bytes")
    caplog.set_level(logging.DEBUG)
    api = ApiClient(Configuration(httpserver.url_for("")))
    resp = api.send("GET", f"/api/imageinstance/5/download?authorization={TOKEN}&format=png")
    assert resp.read() == b"bytes"
    # what the client side logs (the test server's own werkzeug log is not the SDK's)
    client_side = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    assert "authorization=<redacted>&format=png" in client_side
    assert any(r.name == "urllib3.connectionpool" and "download" in r.getMessage() for r in caplog.records)
    assert TOKEN not in client_side


def test_library_configures_no_logging() -> None:
    code = (
        "import logging, cytomine_sdk\n"
        "from cytomine_sdk import ApiClient, Configuration\n"
        "ApiClient(Configuration('http://127.0.0.1:9')).project_api\n"
        "print(len(logging.getLogger().handlers), logging.getLogger('cytomine_sdk').handlers)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "0 []"


PASSWORD = "PASSWORD-must-not-leak"
SIGNATURE = "c2lnbmF0dXJlLW11c3Qtbm90LWxlYWs="
URL = f"http://reader:{PASSWORD}@127.0.0.1:8080/api/imageinstance/5/download?authorization={TOKEN}&format=png"
SAFE_URL = "http://reader:<redacted>@127.0.0.1:8080/api/imageinstance/5/download?authorization=<redacted>&format=png"


def test_redact_url_hides_query_tokens_and_userinfo_passwords_only() -> None:
    assert redact_url(URL) == SAFE_URL
    assert redact_url(f"see 'https://u:p:a@ss@h.example.org/x' and socks5://s:{PASSWORD}@proxy:1080 too") == (
        "see 'https://u:<redacted>@h.example.org/x' and socks5://s:<redacted>@proxy:1080 too")
    for unchanged in ("http://127.0.0.1:8080/api/x?max=10&offset=0", "https://user@h.example.org/a@b",
                      "http://h.example.org:8080/p?q=a:b@c", "no URL here: a@b"):
        assert redact_url(unchanged) == unchanged


# The loggers of urllib3 2's modules (each module logs on a logger of its own name).
URLLIB3_LOGGERS = ["urllib3", "urllib3.connectionpool", "urllib3.connection", "urllib3.poolmanager",
                   "urllib3.response", "urllib3.util.retry"]


def test_every_urllib3_logger_in_use_has_the_filter(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/project/1.json").respond_with_data(b'{"id": 1}', content_type="application/json")
    ApiClient(Configuration(httpserver.url_for(""))).project_api.retrieve(1)
    loggers = [
        (name, logger) for name, logger in logging.Logger.manager.loggerDict.items()
        if name.split(".")[0] == "urllib3" and isinstance(logger, logging.Logger)
    ]
    assert {"urllib3.connectionpool", "urllib3.util.retry"} <= {name for name, _ in loggers}
    for name, logger in loggers:
        assert any(isinstance(f, RedactingFilter) for f in logger.filters), name


@pytest.mark.parametrize("name", URLLIB3_LOGGERS)
def test_every_urllib3_logger_redacts_whatever_carries_a_secret(name: str, caplog: pytest.LogCaptureFixture) -> None:
    import cytomine_sdk.client  # noqa: F401 - installs the filters, as any use of the SDK does

    caplog.set_level(logging.DEBUG)
    log = logging.getLogger(name)
    retry = Retry(3)
    log.debug("Incremented Retry for (url='%s'): %r", URL, retry)  # str argument, urllib3's own line
    log.debug("Retrying (%r) after connection broken by '%r': %s", retry, MaxRetryError(None, URL), "/x")
    log.debug("%(url)s answered %(status)d", {"url": URL, "status": 503})  # mapping arguments
    log.debug(f"pre-formatted {URL}")  # no arguments: the message itself
    log.debug(f"template holding {URL} and %d", 7)  # a secret in a format string with arguments
    log.debug("headers %s", {"Authorization": f"CYTOMINE pub:{SIGNATURE}", "X": f"Bearer {TOKEN}"})
    try:
        raise ValueError(f"cannot parse {URL}")
    except ValueError:
        log.warning("Failed to parse headers (url=%s)", "/x", exc_info=True)
    log.debug("numbers %d and %.1f and %s", 3, 2.5, None)

    records = [r for r in caplog.records if r.name == name]
    assert len(records) == 8
    formatter = logging.Formatter("%(message)s")
    said = [formatter.format(r) for r in records]
    everything = "\n".join(said)
    for secret in (PASSWORD, TOKEN, SIGNATURE):
        assert secret not in everything
    assert said[0] == f"Incremented Retry for (url='{SAFE_URL}'): {retry!r}"
    assert said[1].startswith(f"Retrying ({retry!r}) after connection broken by 'MaxRetryError(")
    assert SAFE_URL in said[1]
    assert said[2] == f"{SAFE_URL} answered 503"
    assert said[3] == f"pre-formatted {SAFE_URL}"
    assert said[4] == f"template holding {SAFE_URL} and 7"
    assert said[5] == "headers {'Authorization': 'CYTOMINE pub:<redacted>', 'X': 'Bearer <redacted>'}"
    assert said[6].startswith("Failed to parse headers (url=/x)\nTraceback") and f"cannot parse {SAFE_URL}" in said[6]
    assert said[7] == "numbers 3 and 2.5 and None"
