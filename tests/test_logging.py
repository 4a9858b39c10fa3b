"""Logger `cytomine_sdk`: DEBUG shows requests, never secrets; the library configures no handler."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from pytest_httpserver import HTTPServer

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.exceptions import AuthenticationError

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
