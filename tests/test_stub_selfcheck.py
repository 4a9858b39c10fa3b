"""Self-check of the testing kit against the facts: its oracle (cytomine_sdk.testing._auth) and
its stub server (cytomine_sdk.testing.CytomineStub, what users test their code against).

No SDK code is used here: requests are built with http.client and signed by the
small helper below, written from docs/server-facts.md section 1.2.  Only loopback traffic.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest

from cytomine_sdk.testing import CytomineStub, Drift, legacy_envelope, pageable_envelope
from cytomine_sdk.testing import _auth as server_auth

GENERATIONS = ("2026", "2025", "legacy")
TOKEN = "test-token.abc_DEF-123"
ISO_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
EPOCH_STRING = re.compile(r"^\d{13}$")


# ---------------------------------------------------------------------------
# A client-side signer written from docs/server-facts.md (independent of server_auth)
# ---------------------------------------------------------------------------


def http_date() -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())


def canonical(style: str, method: str, content_type: str, date: str, target: str) -> str:
    """style "2026": no path; "path": METHOD..DATE\\n + path?query (2025 and Grails)."""
    head = f"{method}\n\n{content_type}\n{date}"
    return head if style == "2026" else f"{head}\n{target}"


def hmac_b64(private_key: str, text: str) -> str:
    return base64.b64encode(hmac.new(private_key.encode(), text.encode(), hashlib.sha1).digest()).decode()


def style_for(generation: str) -> str:
    return "2026" if generation == "2026" else "path"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send(
    stub: CytomineStub,
    method: str,
    target: str,
    *,
    body: bytes | None = None,
    content_type: str | None = None,
    signed_content_type: str | None = None,
    style: str | None = None,
    private_key: str | None = None,
    sign: bool = True,
    date: str | None = None,
    send_date: bool = True,
    send_host: bool = True,
    extra_headers: Mapping[str, str] | None = None,
) -> Reply:
    """Send one raw request to the stub; sign it unless sign=False.

    By default the signature uses the stub's generation rule, the content type
    actually sent (or "") and the stub's private key.
    """
    parts = urlsplit(stub.host)
    assert parts.hostname is not None and parts.port is not None
    date = date or http_date()
    headers: dict[str, str] = {}
    if send_host:
        headers["Host"] = f"{parts.hostname}:{parts.port}"
    if send_date:
        headers["Date"] = date
    if content_type is not None:
        headers["Content-Type"] = content_type
    headers["X-Requested-With"] = "XMLHTTPRequest"
    if sign:
        ct = signed_content_type if signed_content_type is not None else (content_type or "")
        text = canonical(style or style_for(stub.generation), method, ct, date, target)
        headers["Authorization"] = f"CYTOMINE {stub.public_key}:{hmac_b64(private_key or stub.private_key, text)}"
    headers.update(extra_headers or {})
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


def send_json(stub: CytomineStub, method: str, target: str, payload: Any) -> Reply:
    return send(stub, method, target, body=json.dumps(payload).encode(), content_type="application/json")


@pytest.fixture(params=GENERATIONS)
def gen(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def stub(gen: str) -> Iterator[CytomineStub]:
    with CytomineStub(gen, token=TOKEN) as running:
        yield running


# ---------------------------------------------------------------------------
# The oracle on its own
# ---------------------------------------------------------------------------


def test_oracle_known_vectors() -> None:
    date = "Tue, 02 Sep 2025 10:00:00 +0000"
    keys = {"pub": "private-key"}.get
    # Pinned values: HMAC-SHA1 + Base64 of the canonical strings of docs/server-facts.md 1.2.
    no_path = "CYTOMINE pub:/W4M3l9u5+EsoDpUwO2xW5D+K5o="
    with_path = "CYTOMINE pub:8WmIrEoCpIVCDeD9t64IppuHVx8="
    headers = {"DATE": date, "Host": "example.org"}

    def check(generation: str, authorization: str) -> str | None:
        return server_auth.authenticate(
            generation=generation,
            method="GET",
            raw_target="/api/project.json?max=10",
            headers={**headers, "authorization": authorization},
            private_key_for=keys,
        )

    assert check("2026", no_path) == "pub"
    assert check("2026", with_path) is None
    assert check("2025", with_path) == "pub"
    assert check("legacy", with_path) == "pub"
    assert check("2025", no_path) is None
    assert check("legacy", no_path) is None


@pytest.mark.parametrize(
    "authorization",
    [
        "CYTOMINE pub",  # no colon
        "CYTOMINEpub:sig",  # no space
        "cytomine pub:sig",  # must start with upper-case CYTOMINE
        "Basic cHViOnNpZw==",
        "CYTOMINE unknown:sig",  # unknown public key
    ],
)
def test_oracle_rejects_malformed_headers(authorization: str) -> None:
    result = server_auth.authenticate(
        generation="2025",
        method="GET",
        raw_target="/api/project.json",
        headers={"date": "x", "host": "h", "authorization": authorization},
        private_key_for={"pub": "k"}.get,
    )
    assert result is None


def test_oracle_parses_public_key_between_first_space_and_first_colon() -> None:
    assert server_auth.parse_cytomine_authorization("CYTOMINE a b:c:d") == ("a b", "c:d")
    assert server_auth.parse_cytomine_authorization("CYTOMINE:x y") is None


def test_oracle_content_type_candidates() -> None:
    cands = server_auth.candidate_content_types
    assert cands("legacy", "/api/x.json", None) == [""]
    assert cands("legacy", "/api/x.json", "application/json") == ["application/json"]
    assert cands("2025", "/api/x.json", None) == ["application/json", ""]
    assert cands("2026", "/api/x.json", "application/octet-stream") == ["application/json", ""]
    assert cands("2026", "/upload", None) == [""]
    assert cands("2025", "/api/x.json", "text/plain") == ["text/plain", ""]


def test_bearer_subject() -> None:
    tokens = {TOKEN: "demo"}
    assert server_auth.bearer_subject({"Authorization": f"Bearer {TOKEN}"}, tokens) == "demo"
    assert server_auth.bearer_subject({"authorization": f"bearer {TOKEN}"}, tokens) == "demo"
    assert server_auth.bearer_subject({"Authorization": "Bearer other"}, tokens) is None
    assert server_auth.bearer_subject({}, tokens) is None


# ---------------------------------------------------------------------------
# Authentication through the stub, every generation
# ---------------------------------------------------------------------------


def test_ping_is_public(stub: CytomineStub) -> None:
    reply = send(stub, "GET", "/server/ping", sign=False)
    assert reply.status == 200
    assert reply.json()["alive"] is True
    dotted = send(stub, "GET", "/server/ping.json", sign=False)
    # 2026 dropped /server/ping.json: it is then an ordinary protected path
    assert dotted.status == (401 if stub.generation == "2026" else 200)


def test_unauthenticated_gets_401_with_empty_body(stub: CytomineStub) -> None:
    for target in ("/api/project.json", "/api/user/current.json", "/api/no/such/route.json"):
        reply = send(stub, "GET", target, sign=False)
        assert (reply.status, reply.body) == (401, b"")


def test_signed_get_with_encoded_query(stub: CytomineStub) -> None:
    params = {"name[ilike]": "*lung*", "note": "a b/c?d&e=f+g é ✓", "max": "10", "offset": "0"}
    target = "/api/project.json?" + urlencode(params, quote_via=quote)
    assert "%20" in target and "%C3%A9" in target and "%5B" in target
    reply = send(stub, "GET", target)
    assert reply.status == 200, reply.body
    names = sorted(p["name"] for p in reply.json()["collection"])
    assert names == ["Demo: lung biopsies", "Demo: lung resections"]
    seen = stub.requests[-1]
    assert seen.raw_target == target
    assert seen.query["note"] == ["a b/c?d&e=f+g é ✓"]
    assert seen.principal == "demo"


def test_signed_post_put_delete(stub: CytomineStub) -> None:
    created = send(
        stub,
        "POST",
        "/api/project.json",
        body=json.dumps({"name": "Signed project", "ontology": 10}).encode(),
        content_type="application/json;charset=UTF-8",
    )
    assert created.status == 200, created.body
    envelope = created.json()
    project = envelope["project"]
    assert envelope["callback"] == {"method": "be.cytomine.AddProjectCommand", "projectID": str(project["id"])}
    assert envelope["printMessage"] is True and isinstance(envelope["command"], int)
    assert project["name"] == "Signed project" and project["ontologyName"] == "Demo: lung tissue"

    target = f"/api/project/{project['id']}.json"
    updated = send_json(stub, "PUT", target, {"id": project["id"], "name": "Renamed"})
    assert updated.status == 200, updated.body
    assert updated.json()["project"]["name"] == "Renamed"
    assert updated.json()["callback"]["method"] == "be.cytomine.EditProjectCommand"

    deleted = send(stub, "DELETE", target)  # no content type, signed with ""
    assert deleted.status == 200, deleted.body
    assert deleted.json()["callback"]["method"] == "be.cytomine.DeleteProjectCommand"
    assert send(stub, "GET", target).status == 404


def _multipart(boundary: str, content: bytes) -> bytes:
    return (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="files[]"; filename="notes.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )


def test_signed_multipart_with_boundary(stub: CytomineStub) -> None:
    boundary = "----stubBoundary7MA4YWxk"
    content_type = f"multipart/form-data; boundary={boundary}"
    target = "/api/attachedfile.json?domainIdent=100&domainClassName=be.cytomine.domain.project.Project&key=notes"
    payload = b"hello \xe2\x9c\x93 world"
    reply = send(stub, "POST", target, body=_multipart(boundary, payload), content_type=content_type)
    assert reply.status == 200, reply.body
    attached = reply.json()
    assert (attached["filename"], attached["domainIdent"], attached["key"]) == ("notes.txt", 100, "notes")
    download = send(stub, "GET", f"/api/attachedfile/{attached['id']}/download")
    assert download.status == 200 and download.body == payload
    # The boundary is part of the signed content type: leaving it out fails everywhere.
    bad = send(
        stub,
        "POST",
        target,
        body=_multipart(boundary, payload),
        content_type=content_type,
        signed_content_type="multipart/form-data",
    )
    assert (bad.status, bad.body) == (401, b"")


def test_wrong_private_key_is_rejected(stub: CytomineStub) -> None:
    reply = send(stub, "GET", "/api/user/current.json", private_key="not-the-key")
    assert (reply.status, reply.body) == (401, b"")


def test_missing_date_or_host_is_rejected(stub: CytomineStub) -> None:
    assert send(stub, "GET", "/api/user/current.json").status == 200
    assert send(stub, "GET", "/api/user/current.json", send_date=False).status == 401
    assert send(stub, "GET", "/api/user/current.json", send_host=False).status == 401


def test_date_is_not_checked_for_freshness(stub: CytomineStub) -> None:
    reply = send(stub, "GET", "/api/user/current.json", date="Thu, 01 Jan 1970 00:00:00 +0000")
    assert reply.status == 200


@pytest.mark.parametrize("style", ["2026", "path"])
def test_path_in_canonical_string(stub: CytomineStub, style: str) -> None:
    reply = send(stub, "GET", "/api/project.json?max=1", style=style)
    accepted = (style == "2026") == (stub.generation == "2026")
    assert reply.status == (200 if accepted else 401)


def test_empty_content_type_retry(stub: CytomineStub) -> None:
    spring = stub.generation != "legacy"
    # JSON sent, but signed with an empty content type: only 2025/2026 retry with "".
    reply = send(
        stub,
        "POST",
        "/api/project.json",
        body=b'{"name": "retry"}',
        content_type="application/json",
        signed_content_type="",
    )
    assert reply.status == (200 if spring else 401)
    # No content type sent on a .json path but signed as application/json (ContentTypeRequestWrapper).
    reply = send(stub, "GET", "/api/user/current.json", signed_content_type="application/json")
    assert reply.status == (200 if spring else 401)
    # ... not on a path without .json
    reply = send(stub, "GET", "/api/attachedfile/1/download", signed_content_type="application/json")
    assert reply.status == 401
    # application/octet-stream on a .json path is presented as application/json by 2025/2026.
    reply = send(stub, "GET", "/api/user/current.json", content_type="application/octet-stream")
    assert reply.status == (401 if spring else 200)


def test_bearer_token(stub: CytomineStub) -> None:
    good = send(stub, "GET", "/api/user/current.json", sign=False, extra_headers={"Authorization": f"Bearer {TOKEN}"})
    bad = send(stub, "GET", "/api/user/current.json", sign=False, extra_headers={"Authorization": "Bearer nope"})
    in_query = send(stub, "GET", f"/api/user/current.json?auth={TOKEN}", sign=False)
    assert good.status == (401 if stub.generation == "legacy" else 200)
    assert bad.status == 401
    assert in_query.status == (200 if stub.generation == "2026" else 401)


# ---------------------------------------------------------------------------
# List envelopes
# ---------------------------------------------------------------------------


def _set_project_count(stub: CytomineStub, count: int) -> None:
    for project in send(stub, "GET", "/api/project.json").json()["collection"]:
        assert send(stub, "DELETE", f"/api/project/{project['id']}.json").status == 200
    for n in range(count):
        assert send_json(stub, "POST", "/api/project.json", {"name": f"P{n}"}).status == 200


@pytest.mark.parametrize(
    ("total", "query", "expected"),
    [
        (0, "max=2", {"n": 0, "offset": 0, "perPage": 0, "size": 0, "totalPages": 0}),
        (1, "max=2", {"n": 1, "offset": 0, "perPage": 1, "size": 1, "totalPages": 1}),
        (2, "max=2", {"n": 2, "offset": 0, "perPage": 2, "size": 2, "totalPages": 1}),
        (3, "max=2", {"n": 2, "offset": 0, "perPage": 2, "size": 3, "totalPages": 2}),
        (3, "max=2&offset=2", {"n": 1, "offset": 2, "perPage": 2, "size": 3, "totalPages": 2}),
        (3, "max=0", {"n": 3, "offset": 0, "perPage": 3, "size": 3, "totalPages": 1}),
        (3, "offset=1", {"n": 2, "offset": 1, "perPage": 3, "size": 3, "totalPages": 1}),
        (3, "max=2&offset=5", {"n": 0, "offset": 5, "perPage": 2, "size": 3, "totalPages": 2}),
    ],
)
def test_legacy_envelope_max_offset(stub: CytomineStub, total: int, query: str, expected: dict[str, int]) -> None:
    _set_project_count(stub, total)
    reply = send(stub, "GET", f"/api/project.json?{query}")
    assert reply.status == 200
    body = reply.json()
    assert set(body) == {"collection", "offset", "perPage", "size", "totalPages"}
    got = {"n": len(body["collection"]), **{k: body[k] for k in ("offset", "perPage", "size", "totalPages")}}
    assert got == expected


def _set_term_count(stub: CytomineStub, count: int) -> None:
    for term in list(stub.state.terms_of_ontology(10)):
        assert send(stub, "DELETE", f"/api/term/{term.id}.json").status == 200
    for n in range(count):
        reply = send_json(stub, "POST", "/api/term.json", {"name": f"T{n}", "color": "#123456", "ontology": 10})
        assert reply.status == 200, reply.body


@pytest.mark.parametrize(
    ("total", "query", "legacy_expected", "pageable_expected"),
    [
        (0, "", (0, 0, 0, 0, 0), (0, 0, 20, 0, 0)),
        (1, "max=2", (1, 0, 1, 1, 1), (1, 0, 20, 1, 1)),
        (2, "max=2&page=0&size=2", (2, 0, 2, 2, 1), (2, 0, 2, 2, 1)),
        (3, "max=2&offset=2&page=1&size=2", (1, 2, 2, 3, 2), (1, 2, 2, 3, 2)),
        (3, "max=1&offset=1", (1, 1, 1, 3, 3), (3, 0, 20, 3, 1)),
        (25, "", (25, 0, 25, 25, 1), (20, 0, 20, 25, 2)),
    ],
)
def test_term_list_paging_by_generation(
    stub: CytomineStub,
    total: int,
    query: str,
    legacy_expected: tuple[int, ...],
    pageable_expected: tuple[int, ...],
) -> None:
    """2026 repository lists page with page/size (max/offset ignored, default 20); others max/offset."""
    _set_term_count(stub, total)
    suffix = f"?{query}" if query else ""
    for target in (f"/api/ontology/10/term.json{suffix}", f"/api/project/100/term.json{suffix}"):
        body = send(stub, "GET", target).json()
        got = (len(body["collection"]), body["offset"], body["perPage"], body["size"], body["totalPages"])
        assert got == (pageable_expected if stub.generation == "2026" else legacy_expected), target


def test_envelope_helpers() -> None:
    assert legacy_envelope([], 0, 0) == {"collection": [], "offset": 0, "perPage": 0, "size": 0, "totalPages": 0}
    assert legacy_envelope([1, 2, 3, 4], 3, 3) == {
        "collection": [4],
        "offset": 3,
        "perPage": 3,
        "size": 4,
        "totalPages": 2,
    }
    assert pageable_envelope(list(range(45)), 2, 20) == {
        "collection": list(range(40, 45)),
        "offset": 40,
        "perPage": 20,
        "size": 45,
        "totalPages": 3,
    }


# ---------------------------------------------------------------------------
# Writes: bulk, command envelopes, errors
# ---------------------------------------------------------------------------

VALID_1 = {"image": 200, "location": "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))", "term": [20]}
VALID_2 = {"image": 201, "location": "POINT (5 5)"}
NO_LOCATION = {"image": 200}
BAD_LOCATION = {"image": 200, "location": "CIRCLE (1 1, 5)"}


def _bulk(stub: CytomineStub, items: list[dict[str, Any]]) -> tuple[int, dict[str, Any], int]:
    """(HTTP status, data object, logical status) of a bulk POST."""
    reply = send_json(stub, "POST", "/api/annotation.json", items)
    body = reply.json()
    if stub.generation == "legacy":
        return reply.status, body, reply.status
    assert set(body) == {"data", "status"}
    return reply.status, body["data"], body["status"]


def test_bulk_create_partial_failure(stub: CytomineStub) -> None:
    http_status, data, status = _bulk(stub, [VALID_1, NO_LOCATION, BAD_LOCATION])
    assert status == 206
    assert http_status == (206 if stub.generation == "legacy" else 200)
    assert data["success"] is False
    new_ids = [a for a in stub.state.annotations if a >= 1000]
    assert len(new_ids) == 1
    if stub.generation == "legacy":
        assert data["message"] == f"Only part of the entries (userannotations {new_ids[0]}) added."
    else:
        assert data["message"] == f"Only part of the entries (userannotations {new_ids[0]}"
    assert [e["data"] for e in data["errors"]] == [NO_LOCATION, BAD_LOCATION]
    assert all(isinstance(e["message"], str) and e["message"] for e in data["errors"])
    assert send(stub, "GET", f"/api/annotation/{new_ids[0]}.json").json()["location"] == VALID_1["location"]


def test_bulk_create_all_ok_and_none_ok(stub: CytomineStub) -> None:
    http_status, data, status = _bulk(stub, [VALID_1, VALID_2])
    ids = sorted(a for a in stub.state.annotations if a >= 1000)
    assert (http_status, status) == (200, 200)
    assert data == {"message": f"userannotations {ids[0]},{ids[1]} added"}

    http_status, data, status = _bulk(stub, [NO_LOCATION])
    assert status == 400
    assert http_status == (400 if stub.generation == "legacy" else 200)
    assert data["success"] is False and data["message"] == "No entry saved"
    assert data["errors"][0]["data"] == NO_LOCATION


def test_single_annotation_create_uses_annotation_key(stub: CytomineStub) -> None:
    reply = send_json(stub, "POST", "/api/annotation.json", VALID_1)
    assert reply.status == 200, reply.body
    envelope = reply.json()
    assert "userannotation" not in envelope
    assert envelope["annotation"]["location"] == VALID_1["location"]
    assert envelope["annotation"]["term"] == [20]
    assert envelope["callback"]["method"] == "be.cytomine.AddUserAnnotationCommand"
    assert envelope["callback"]["annotationID"] == str(envelope["annotation"]["id"])
    invalid = send_json(stub, "POST", "/api/annotation.json", NO_LOCATION)
    assert invalid.status == 400
    assert invalid.json()["success"] is False and isinstance(invalid.json()["errors"], str)


def test_error_shapes(stub: CytomineStub) -> None:
    missing = send(stub, "GET", "/api/project/5.json")
    assert missing.status == 404
    if stub.generation == "legacy":
        assert missing.json() == {"errors": {"message": "Project not found with id : 5"}}
    else:
        assert missing.json() == {"errors": {"message": "Project not found with filters : {id=5}"}}

    invalid = send_json(stub, "POST", "/api/project.json", {"ontology": 10})
    assert invalid.status == 400
    body = invalid.json()
    assert body["success"] is False and isinstance(body["errors"], str)
    assert ("errorValues" in body) == (stub.generation != "legacy")

    term = send(stub, "GET", "/api/term/5.json")
    assert term.status == 404
    if stub.generation == "2026":
        assert term.headers["content-type"] == "application/problem+json"
        problem = term.json()
        assert problem["status"] == 404 and problem["type"] == "about:blank"
        assert problem["detail"] == "Unable to find term with id: 5"
    else:
        assert "errors" in term.json()


def test_routes_follow_generations(stub: CytomineStub) -> None:
    spring2026 = stub.generation == "2026"
    # GET /api/term.json was removed in 2026 (POST remains on that path: Spring answers 405)
    term_list = send(stub, "GET", "/api/term.json")
    assert term_list.status == (405 if spring2026 else 200)
    if spring2026:
        assert term_list.headers["allow"] == "POST"
        assert isinstance(term_list.json()["errors"]["message"], str)
    ping_json = send(stub, "GET", "/server/ping.json")  # signed: authenticated, but not served by 2026
    assert ping_json.status == (404 if spring2026 else 200)
    if spring2026:
        assert isinstance(ping_json.json()["errors"]["message"], str)
    assert send(stub, "GET", "/api/nothing/here.json").status == 404
    assert send(stub, "POST", "/server/ping", sign=False).status == (401 if stub.generation == "2026" else 200)


def test_term_write_responses(stub: CytomineStub) -> None:
    reply = send_json(stub, "POST", "/api/term.json", {"name": "Immune", "color": "#00FF00", "ontology": 10})
    assert reply.status == 200, reply.body
    body = reply.json()
    if stub.generation == "2026":
        assert set(body) == {"printMessage", "data", "commandId", "command", "subCommands"}
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", body["commandId"])
        assert body["data"]["dataType"] == "TERM" and body["data"]["ontologyId"] == 10
        assert body["command"] == "be.cytomine.AddTermCommand"
    else:
        assert body["term"]["name"] == "Immune" and body["term"]["ontology"] == 10
        assert body["callback"]["method"] == "be.cytomine.AddTermCommand"


# ---------------------------------------------------------------------------
# JSON shapes and dates (docs/server-facts.md section 4)
# ---------------------------------------------------------------------------


def test_domain_shapes_and_dates(stub: CytomineStub) -> None:
    gen = stub.generation
    me = send(stub, "GET", "/api/user/current.json").json()
    assert (me["id"], me["username"]) == (1, "demo")
    if gen == "2026":
        assert isinstance(me["created"], int)
    elif gen == "2025":
        flags = {"adminByNow", "userByNow", "guestByNow", "isSwitched"}
        assert set(me) - flags == {"id", "username", "name", "fullName"}
    else:
        assert EPOCH_STRING.match(me["created"]) and me["publicKey"] == stub.public_key

    project = send(stub, "GET", "/api/project/100.json").json()
    fqcn = "be.cytomine.project.Project" if gen == "legacy" else "be.cytomine.domain.project.Project"
    assert project["class"] == fqcn and EPOCH_STRING.match(project["created"])
    assert (project["numberOfImages"], project["numberOfAnnotations"]) == (2, 4)

    ontology = send(stub, "GET", "/api/ontology/10.json").json()
    term = send(stub, "GET", "/api/term/20.json").json()
    user = send(stub, "GET", "/api/user/1.json").json()
    if gen == "2026":
        assert ISO_LOCAL.match(ontology["created"]) and ISO_LOCAL.match(term["created"])
        assert ISO_LOCAL.match(user["created"])
        assert term["ontologyId"] == 10 and "ontology" not in term
        assert [t["id"] for t in ontology["terms"]] == [20, 21, 22]
    else:
        assert EPOCH_STRING.match(ontology["created"]) and EPOCH_STRING.match(term["created"])
        assert term["ontology"] == 10 and "ontologyId" not in term
        assert [t["id"] for t in ontology["children"]] == [20, 21, 22]

    images = send(stub, "GET", "/api/project/100/imageinstance.json").json()
    assert [i["id"] for i in images["collection"]] == [200, 201]


def test_annotation_listing_columns_and_filters(stub: CytomineStub) -> None:
    default = send(stub, "GET", "/api/annotation.json?project=100").json()
    assert default["size"] == 4
    row = default["collection"][0]
    assert {"id", "class", "created", "image", "term", "userByTerm"} <= set(row)
    assert "location" not in row and isinstance(row["created"], int)

    wkt = send(stub, "GET", "/api/annotation.json?image=200&showWKT=true&showTerm=true").json()
    assert wkt["size"] == 3
    columns = {"id", "class", "location", "geometryCompression", "term", "userByTerm"}
    assert all(set(r) == columns for r in wkt["collection"])

    hidden = send(stub, "GET", "/api/annotation.json?project=100&hideMeta=true").json()
    assert "created" not in hidden["collection"][0] and "term" in hidden["collection"][0]

    by_terms = send(stub, "GET", "/api/annotation.json?terms=21,22&max=1").json()
    assert (by_terms["size"], len(by_terms["collection"]), by_terms["totalPages"]) == (2, 1, 2)
    by_user = send(stub, "GET", "/api/annotation.json?users=2").json()
    assert [r["id"] for r in by_user["collection"]] == [302]

    searched = send_json(stub, "POST", "/api/annotation/search.json", {"images": [201], "showGIS": True})
    rows = searched.json()["collection"]
    assert [r["id"] for r in rows] == [303]
    assert rows[0]["areaUnit"] == "micron²" and rows[0]["area"] == pytest.approx(2000 * 1000 * 0.25 * 0.25)


# ---------------------------------------------------------------------------
# What the kit added: properties, images, uploads, downloads, faults (docs/server-facts.md 3-9)
# ---------------------------------------------------------------------------


def test_property_shapes_commands_and_bulk(stub: CytomineStub) -> None:
    fqcn = "be.cytomine.project.Project" if stub.generation == "legacy" else "be.cytomine.domain.project.Project"
    created = send_json(stub, "POST", f"/api/domain/{fqcn}/100/property.json", {"key": "site", "value": "Liège"})
    assert created.status == 200
    envelope = created.json()
    assert envelope["callback"]["method"] == "be.cytomine.AddPropertyCommand" and envelope["printMessage"] is True
    prop = envelope["property"]
    assert prop["class"] == ("be.cytomine.meta.Property" if stub.generation == "legacy"
                             else "be.cytomine.domain.meta.Property")
    assert EPOCH_STRING.match(prop["created"]) and prop["updated"] is None  # epoch-ms strings (section 4)
    assert ("deleted" in prop) == (stub.generation == "legacy")
    assert (prop["domainClassName"], prop["domainIdent"], prop["key"], prop["value"]) == (fqcn, 100, "site", "Liège")
    listed = send(stub, "GET", "/api/project/100/property.json?max=1&offset=0").json()
    assert listed["size"] == 1 and listed["collection"][0]["id"] == prop["id"]  # legacy envelope (2.1)
    assert send(stub, "GET", f"/api/project/100/key/{quote('site')}/property.json").json()["value"] == "Liège"
    # bulk: the answer of section 6
    reply = send_json(stub, "POST", f"/api/domain/{fqcn}/100/property.json", [{"key": "a", "value": 1}, {"value": 2}])
    body = reply.json()
    data, status = (body, reply.status) if stub.generation == "legacy" else (body["data"], body["status"])
    assert reply.status == (206 if stub.generation == "legacy" else 200) and status == 206
    assert data["success"] is False and data["errors"][0]["data"] == {"value": 2}
    deleted = send(stub, "DELETE", f"/api/domain/{fqcn}/100/property/{prop['id']}.json")
    assert deleted.json()["callback"]["method"] == "be.cytomine.DeletePropertyCommand"
    assert send(stub, "GET", f"/api/project/100/property/{prop['id']}.json").status == 404


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return width, height


def test_thumbs_need_the_query_token_on_spring_servers(stub: CytomineStub) -> None:
    """Section 5: 2026 reads `authorization`, 2025 `Authorization`; missing, 2025 answers 400 and
    2026 fails (500); the thumb's default maxSize is 512, a preview's 1024."""
    name = {"2026": "authorization", "2025": "Authorization"}.get(stub.generation)
    bare = send(stub, "GET", "/api/imageinstance/200/thumb.png", sign=stub.generation == "legacy")
    if name is None:
        assert bare.status == 200 and _png_size(bare.body) == (512, round(32914 * 512 / 46000))
        return
    assert bare.status == (500 if stub.generation == "2026" else 400)
    target = f"/api/imageinstance/200/preview.png?{name}=Bearer%20{TOKEN}"
    reply = send(stub, "GET", target, sign=False)
    assert reply.status == 200 and reply.headers["content-type"] == "image/png"
    assert _png_size(reply.body) == (1024, round(32914 * 1024 / 46000))


def test_windows_and_crops_have_the_sizes_asked(stub: CytomineStub) -> None:
    window = send(stub, "GET", "/api/imageinstance/200/window-100-200-300-40.png")
    assert window.status == 200 and _png_size(window.body) == (300, 40)
    crop = send(stub, "GET", "/api/annotation/300/crop.png?maxSize=100")  # a 1000 x 1000 square
    assert crop.status == 200 and _png_size(crop.body) == (100, 100)
    assert send(stub, "GET", "/api/imageinstance/4242/window-0-0-10-10.png").status == 404


def test_upload_statuses_follow_section_9(stub: CytomineStub) -> None:
    stub.upload_step_seconds = 3600.0
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files[]\"; filename=\"a.svs\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\nII*\x00slide\r\n--{boundary}--\r\n").encode()
    reply = send(stub, "POST", "/upload?storage=9001&projects=100", body=body,
                 content_type=f"multipart/form-data; boundary={boundary}", style="2026")
    assert reply.status == 200, reply.body
    (answer,) = reply.json()  # a JSON array with one element
    assert answer["status"] == 200 and answer["images"] == [] and answer["uploadedFile"]["status"] == 0
    ident = answer["uploadedFile"]["id"]
    polled = [send(stub, "GET", f"/api/uploadedfile/{ident}.json").json()["status"] for _ in range(5)]
    assert polled == [10, 20, 40, 100, 100]  # DETECTING_FORMAT, EXTRACTING_DATA, DEPLOYING, DEPLOYED


def test_original_downloads_honour_range_and_if_range() -> None:
    with CytomineStub("legacy") as stub:
        stub.state.images[200].content = bytes(range(100))
        whole = send(stub, "GET", "/api/imageinstance/200/download")
        assert whole.status == 200 and whole.body == bytes(range(100)) and whole.headers["accept-ranges"] == "bytes"
        etag = whole.headers["etag"]
        target = "/api/imageinstance/200/download"
        part = send(stub, "GET", target, extra_headers={"Range": "bytes=90-", "If-Range": etag})
        assert part.status == 206 and part.body == bytes(range(90, 100))
        assert part.headers["content-range"] == "bytes 90-99/100"
        stale = send(stub, "GET", target, extra_headers={"Range": "bytes=90-", "If-Range": '"x"'})
        assert stale.status == 200 and len(stale.body) == 100


def test_injected_status_comes_before_authentication_and_drift_after(stub: CytomineStub) -> None:
    stub.fail("GET", "/api/project/{id}.json", status=503, times=1)
    first = send(stub, "GET", "/api/project/100.json", sign=False)
    assert first.status == 503 and first.json() == {"errors": {"message": first.json()["errors"]["message"]}}
    assert send(stub, "GET", "/api/project/100.json", sign=False).status == 401
    stub.fail("GET", "/api/project.json", drift=Drift(rename={"name": "title"}))
    rows = send(stub, "GET", "/api/project.json").json()["collection"]
    assert rows and all("title" in row and "name" not in row for row in rows)
    assert send(stub, "GET", "/api/project.json", sign=False).status == 401  # errors are not drifted
