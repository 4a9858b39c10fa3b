"""Image-server (PIMS) operations go to `pims_url`, by default the host, optionally under /ims."""

from __future__ import annotations

from pytest_httpserver import HTTPServer

from cytomine_sdk import ApiClient, Configuration


def test_pims_operations_default_to_the_host(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/upload", method="POST").respond_with_json([{"status": 200}])
    httpserver.expect_request("/ims/upload", method="POST").respond_with_json([{"status": 201}])
    api = ApiClient(Configuration(httpserver.url_for("")))
    assert api.send("POST", "{pims}/upload", body=b"x").json() == [{"status": 200}]
    assert api.send("POST", "{pims}/ims/upload", body=b"x").json() == [{"status": 201}]


def test_pims_url_is_configurable(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/pims/upload", method="POST").respond_with_json([{"status": 200}])
    api = ApiClient(Configuration("https://cytomine.invalid", pims_url=httpserver.url_for("/pims/")))
    assert api.configuration.pims_url == httpserver.url_for("/pims")
    assert api.send("POST", "{pims}/upload", body=b"x").json() == [{"status": 200}]
