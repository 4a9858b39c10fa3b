"""The client's transport under faults: cut and late bodies, closed keep-alive connections,
malformed headers, oversized answers, slow servers. Each test ends with the right answer or a
typed error, and never with another request's answer.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time

import pytest

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.exceptions import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ClientClosedError,
    CytomineError,
    NotFoundError,
    ResponseTooLargeError,
)
from cytomine_sdk.models import Project
from tests.conftest import CytomineTestServer
from tests.support.fault_server import Exchange, FaultServer, wait_for


def project(ident: int) -> bytes:
    return json.dumps({"id": ident, "name": f"P{ident}"}).encode()


def make_client(server: FaultServer, **config: object) -> ApiClient:
    config.setdefault("retry_backoff", 0.001)
    config.setdefault("signature", "2026")
    return ApiClient(Configuration(server.url, public_key="pub", private_key="priv", **config))  # type: ignore[arg-type]


def ident_of(ex: Exchange) -> int:
    return int(ex.request.target.split("/")[3].split(".")[0])


def answer_project(ex: Exchange) -> None:
    ex.respond(200, project(ident_of(ex)))


# -- item 4: a connection whose body was not read is never reused ------------------------------

SMUGGLED = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n{"id": 666, "name": "P6"}'


def late_body_script(early: int, status: int = 200, content_type: str = "application/octet-stream"
                     ) -> FaultServer:
    """The first answer sends `early` bytes of its body and the rest only once the client sends
    its next request on that connection. The rest is itself a well-formed HTTP answer: a client
    that reuses the connection reads it as the answer to that request, a wrong project (id 666)."""

    def script(ex: Exchange) -> None:
        if "download" in ex.request.target or ex.request.target.startswith("/api/project/404"):
            rest = SMUGGLED + b" " * 4096
            ex.send_head(status, {"Content-Type": content_type, "Content-Length": str(early + len(rest))})
            ex.send_raw(b" " * early)
            if ex.wait_for_client():
                ex.send_raw(rest)
        else:
            answer_project(ex)

    return FaultServer(script)


def test_an_answer_too_large_is_not_left_on_a_reused_connection() -> None:
    with late_body_script(0) as server:
        api = make_client(server, max_binary_in_memory=1024)
        with pytest.raises(ResponseTooLargeError):
            api.attached_file_api.download(1)
        results = [api.project_api.retrieve(i).id for i in (2, 3, 4)]
    assert results == [2, 3, 4]


def test_an_error_body_larger_than_the_excerpt_is_not_left_on_a_reused_connection() -> None:
    with late_body_script(1 << 20, status=404, content_type="text/html") as server:
        api = make_client(server)
        with pytest.raises(NotFoundError):
            api.project_api.retrieve(404)
        results = [api.project_api.retrieve(i).id for i in (2, 3, 4)]
    assert results == [2, 3, 4]


@pytest.mark.parametrize("sized", [True, False])
def test_a_json_labelled_answer_of_a_binary_operation_respects_the_limit(sized: bool) -> None:
    """Item 14: the limit is the operation's (binary), whatever the Content-Type says."""
    def script(ex: Exchange) -> None:
        if "download" in ex.request.target:
            body = b'{"a": "' + b"x" * 4096 + b'"}'
            if sized:
                ex.respond(200, body)
            else:  # chunked: the size is known only by reading
                ex.send_head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
                ex.send_raw(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        else:
            answer_project(ex)

    with FaultServer(script) as server:
        api = make_client(server, max_binary_in_memory=1024)
        with pytest.raises(ResponseTooLargeError):
            api.attached_file_api.download(1)
        assert api.project_api.retrieve(2).id == 2
        big = api.with_options(max_binary_in_memory=1 << 20).attached_file_api.download(1)
        assert len(big) == 4096 + 9


def test_a_large_json_answer_of_a_json_operation_is_read_whole() -> None:
    body = json.dumps({"id": 7, "name": "x" * 5000}).encode()

    def script(ex: Exchange) -> None:
        if ex.index == 0:
            ex.respond(200, body)
        else:
            ex.send_head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
            ex.send_raw(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))

    with FaultServer(script) as server:
        api = make_client(server, max_binary_in_memory=1024)
        assert len(api.project_api.retrieve(7).name or "") == 5000  # sized
        assert len(api.project_api.retrieve(7).name or "") == 5000  # chunked


# -- item 9: a GET whose body is cut off is retried ---------------------------------------------

@pytest.mark.parametrize("cut", ["reset", "close"])
def test_a_get_whose_body_is_cut_is_retried(cut: str) -> None:
    def script(ex: Exchange) -> None:
        if ex.index == 0:
            ex.send_head(200, {"Content-Type": "application/json", "Content-Length": "200"})
            ex.send_raw(b'{"id": 1, "na')
            ex.reset() if cut == "reset" else ex.close()
        else:
            answer_project(ex)

    with FaultServer(script) as server:
        api = make_client(server)
        assert api.project_api.retrieve(1).name == "P1"
        assert len(server.requests) == 2


def test_a_cut_body_without_retries_left_is_a_typed_error() -> None:
    def script(ex: Exchange) -> None:
        ex.send_head(200, {"Content-Type": "application/json", "Content-Length": "200"})
        ex.send_raw(b'{"id": 1')
        ex.reset()

    with FaultServer(script) as server:
        api = make_client(server, max_retries=2)
        with pytest.raises(APIConnectionError) as info:
            api.project_api.retrieve(1)
        assert info.value.request_sent
        assert len(server.requests) == 3


def test_a_post_whose_body_is_cut_is_not_retried() -> None:
    def script(ex: Exchange) -> None:
        ex.send_head(200, {"Content-Type": "application/json", "Content-Length": "200"})
        ex.send_raw(b'{"message": "ok", "project": {"id"')
        ex.reset()

    with FaultServer(script) as server:
        api = make_client(server)
        with pytest.raises(APIConnectionError) as info:
            api.project_api.create(Project(name="P"))
        assert info.value.request_sent and "POST" in str(info.value)
        assert len(server.requests) == 1


def test_a_slow_body_times_out_with_a_typed_error() -> None:
    release = threading.Event()

    def script(ex: Exchange) -> None:
        ex.send_head(200, {"Content-Type": "application/json", "Content-Length": "200"})
        ex.send_raw(b'{"id": 1')
        release.wait(5)
        ex.close()

    with FaultServer(script) as server:
        api = make_client(server, read_timeout=0.2, max_retries=1)
        with pytest.raises(APITimeoutError):
            api.project_api.retrieve(1)
        release.set()
        assert len(server.requests) == 2


# -- item 10: a kept-alive connection closed by the server before answering ----------------------

def closes_kept_alive(ex: Exchange) -> None:
    """Answers the first request of each connection; closes it when a second one comes, without
    answering (what a server closing idle connections does, racing the client's next request)."""
    if ex.request.on_connection == 0:
        ex.respond(200, b'{"message": "ok", "project": {"id": %d}}' % ex.index)
    else:
        ex.close()


def test_a_post_on_a_connection_closed_before_the_answer_is_sent_again_on_a_new_one() -> None:
    with FaultServer(closes_kept_alive) as server:
        api = make_client(server, max_retries=0)
        created = [api.project_api.create(Project(name=f"P{i}")) for i in range(5)]
        assert all(c.id is not None for c in created)
        # each POST after the first went out on a kept-alive connection, was dropped unanswered,
        # and was answered on a new connection; none was answered twice
        answered = [r for r in server.requests if r.on_connection == 0]
        assert len(answered) == 5 and server.connections == 5


def test_a_post_on_a_new_connection_closed_before_the_answer_is_not_sent_again() -> None:
    def script(ex: Exchange) -> None:
        ex.close()  # the server read the request and may have acted on it

    with FaultServer(script) as server:
        api = make_client(server)
        with pytest.raises(APIConnectionError) as info:
            api.project_api.create(Project(name="P"))
        assert info.value.request_sent
        assert len(server.requests) == 1


def test_a_post_answered_in_part_is_not_sent_again() -> None:
    def script(ex: Exchange) -> None:
        if ex.request.on_connection == 0:
            ex.respond(200, b'{"message": "ok", "project": {"id": 1}}')
        else:
            ex.send_raw(b"HTTP/1.1 20")  # some bytes of an answer: the server got the request
            ex.close()

    with FaultServer(script) as server:
        api = make_client(server)
        api.project_api.create(Project(name="P"))
        with pytest.raises(APIConnectionError):
            api.project_api.create(Project(name="P"))
        assert len(server.requests) == 2


# -- item 11: malformed Retry-After ---------------------------------------------------------------

@pytest.mark.parametrize("value", ["soon", "-5", "1.5", "", "Wed, 99 Foo 2026"])
def test_a_malformed_retry_after_falls_back_to_the_backoff(value: str) -> None:
    def script(ex: Exchange) -> None:
        if ex.index == 0:
            ex.respond(503, b'{"errors": {"message": "busy"}}', headers={"Retry-After": value})
        else:
            answer_project(ex)

    with FaultServer(script) as server:
        started = time.monotonic()
        assert make_client(server).project_api.retrieve(1).id == 1
        assert time.monotonic() - started < 3
        assert len(server.requests) == 2


# -- item 19: close ---------------------------------------------------------------------------------

def test_close_closes_the_connections_and_a_closed_client_refuses_to_send() -> None:
    with FaultServer(answer_project) as server:
        api = make_client(server)
        api.project_api.retrieve(1)
        clone = api.with_options(max_retries=0)
        api.close()
        wait_for(lambda: server.ended == [0])
        for client in (api, clone):
            with pytest.raises(ClientClosedError, match="closed"):
                client.project_api.retrieve(2)
            with pytest.raises(CytomineError):
                client.send("GET", "/api/project/2.json")
        assert len(server.requests) == 1
        api.close()  # closing twice is fine


# -- item 20: the final 401 of auto signing says what to check -------------------------------------

def test_auto_signing_final_401_says_both_schemes_were_tried() -> None:
    def script(ex: Exchange) -> None:
        ex.respond(401, b"")

    with FaultServer(script) as server:
        api = ApiClient(Configuration(server.url, public_key="pub", private_key="s3cr3t-k3y"))
        with pytest.raises(AuthenticationError) as info:
            api.project_api.retrieve(1)
        message = str(info.value)
        assert "2026" in message and "2025" in message
        assert "keys" in message and "/api" in message and "public key pub..." in message
        assert "s3cr3t-k3y" not in message
        assert len(server.requests) == 2


# -- item 12: what is signed is what goes on the wire -------------------------------------------

@pytest.mark.parametrize("target", [
    "/api/project/1.json?name=a%2fb",
    "/api/project/1.json?name=100%",
    "/api/project/1.json?name=%zz%e9",
    "/api/project/1.json?name=%C3%A9%2f",
])
def test_escapes_are_signed_as_sent(server: CytomineTestServer, target: str) -> None:
    server.route("GET", "/api/project/1.json", body={"id": 1, "name": "P"})
    api = server.client(signature=server.generation)
    api.send("GET", target)
    assert server.rejected == 0 and server.last.caller is not None


def test_a_content_type_header_in_any_case_is_signed(server: CytomineTestServer) -> None:
    server.route("POST", "/api/project.json", body={"message": "ok", "project": {"id": 1}})
    api = server.client(signature=server.generation)
    for key in ("content-type", "CONTENT-TYPE", "Content-type"):
        api.send("POST", "/api/project.json", headers={key: "application/json"}, body=b'{"name": "P"}')
    assert server.rejected == 0
    assert {s.headers.get("Content-Type") for s in server.seen} == {"application/json"}


# -- error statuses with every error-body shape (docs/server-facts.md section 3), malformed answers ----------

ERROR_BODIES = [
    (400, "application/json", b'{"errors": {"message": "Bad name"}, "errorValues": null}', "Bad name"),
    (403, "application/json", b'{"success": false, "errors": "Forbidden here", "errorValues": {}}', "Forbidden here"),
    (409, "application/json", b'{"success": false, "errors": "Already exists"}', "Already exists"),
    (404, "application/problem+json",
     b'{"type": "about:blank", "title": "Not Found", "status": 404, "detail": "No ontology 5"}', "No ontology 5"),
    (401, "text/html", b"", None),
    (500, "text/html", b"<html><body>Whitelabel Error Page</body></html>", None),
    (422, "application/json", b'[{"error": "bad file", "loc": ["files"]}]', "bad file"),
]


@pytest.mark.parametrize(("status", "content_type", "body", "message"), ERROR_BODIES)
def test_every_error_body_shape_is_a_typed_error_and_the_next_answer_is_right(
        status: int, content_type: str, body: bytes, message: str | None) -> None:
    def script(ex: Exchange) -> None:
        if ex.index == 0:
            ex.respond(status, body, content_type=content_type)
        else:
            answer_project(ex)

    with FaultServer(script) as server:
        api = make_client(server, max_retries=0)
        with pytest.raises(CytomineError) as info:
            api.project_api.retrieve(1)
        assert getattr(info.value, "status", None) == status
        assert getattr(info.value, "server_message", None) == message
        assert api.project_api.retrieve(2).id == 2
        assert server.connections == 1  # a short error body keeps the connection


@pytest.mark.parametrize("head", [
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ten\r\n\r\n{}",
    b"HTTP/1.1 2000 Whatever\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nno colon here\r\n\r\n{}",
    b"garbage\r\n\r\n",
])
def test_a_malformed_answer_is_a_typed_error(head: bytes) -> None:
    def script(ex: Exchange) -> None:
        ex.send_raw(head)
        ex.close()

    with FaultServer(script) as server:
        api = make_client(server, max_retries=1)
        # A typed error, or (where urllib3 is lenient: a header line without a colon is skipped)
        # the project {}; any other exception fails the test.
        with contextlib.suppress(CytomineError):
            assert isinstance(api.project_api.retrieve(1), Project)
