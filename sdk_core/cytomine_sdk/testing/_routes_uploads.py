"""Handlers of uploads: storages, PIMS's upload endpoint and uploaded files whose status progresses."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import _auth as server_auth
from ._envelopes import list_response
from ._errors import repository_not_found
from ._http import JsonObject, Request, Response, empty_response, json_response, parse_multipart
from ._params import id_list_param, parse_int
from ._routes_projects import _get_project
from ._routes_users import _caller
from ._shapes import epoch_string, now_ms
from ._state import StubImage, StubUpload, StubUser

if TYPE_CHECKING:
    from ._cytomine_stub import CytomineStub

def _storage_id(user: StubUser) -> int:
    return 9000 + user.id  # one storage per user


def h_storage_list(stub: CytomineStub, req: Request) -> Response:
    user = _caller(req)
    owner = "userId" if stub.generation == "2026" else "user"
    row: JsonObject = {"id": _storage_id(user), "name": f"{user.username} storage", owner: user.id}
    return list_response(stub, req, [row], repository=True)


def h_pims_upload(stub: CytomineStub, req: Request) -> Response:
    """PIMS's upload: checks the 2026 signature whatever the core (or a bearer token), registers an
    uploaded file (status 0, UPLOADED) and adds an image to each project. Polled, its status goes
    through DETECTING_FORMAT (10), EXTRACTING_DATA (20) and DEPLOYING (40) to DEPLOYED (100); a
    file starting with ``not a slide`` stops at ERROR_FORMAT (11) instead (see upload_status)."""
    public_key = server_auth.authenticate(generation="2026", method=req.method, raw_target=req.raw_target,
                                          headers=req.headers, private_key_for=stub._private_key_for)
    user = stub.state.user_by_public_key(public_key) if public_key else None
    if user is None and stub.generation != "legacy":
        user = stub.authenticate(req)
    if user is None:
        return empty_response(401)
    files = [(f, c) for name, f, c in parse_multipart(req.content_type, req.body) if name == "files[]"]
    storage = req.arg("storage") or req.arg("idStorage")
    if not files or storage is None:
        return json_response([{"status": 400, "error": "files[] and storage are required"}], 400)
    filename, content = files[0][0] or "upload", files[0][1]
    projects = id_list_param(req.args, "projects") or id_list_param(req.args, "idProject") or []
    for project_id in projects:
        _get_project(stub, project_id)
        image = StubImage(stub.state.new_id(), project_id, user.id, filename, 10000, 8000, now_ms())
        stub.state.images[image.id] = image
    uploaded: JsonObject = {
        "id": stub.state.new_id(), "created": epoch_string(now_ms()), "user": user.id,
        "storage": parse_int(storage, "storage"), "projects": projects, "filename": filename,
        "originalFilename": filename, "ext": filename.rpartition(".")[2], "size": len(content), "status": 0,
    }
    steps = [10, 11] if content.startswith(b"not a slide") else [10, 20, 40, 100]
    record = dict(uploaded)
    stub.state.uploaded_files[uploaded["id"]] = record
    stub.state.uploads[uploaded["id"]] = StubUpload(record, steps, time.monotonic())
    answer = {"status": 200, "name": filename, "size": len(req.body), "uploadedFile": uploaded, "images": []}
    return json_response([answer])


def h_uploaded_file_get(stub: CytomineStub, req: Request) -> Response:
    ident = req.path_int("id")
    uploaded = stub.state.uploaded_files.get(ident)
    if uploaded is None:
        raise repository_not_found(stub, req, "UploadedFile", ident)
    progress = stub.state.uploads.get(ident)
    if progress is not None:
        progress.polls += 1
        uploaded["status"] = upload_status(stub, progress)
    return json_response(uploaded)


def upload_status(stub: CytomineStub, upload: StubUpload) -> int:
    """The status of an upload now: each poll moves it one step at least, and each
    ``stub.upload_step_seconds`` since the upload one more (0: straight to the last step)."""
    last = len(upload.steps) - 1
    if stub.upload_step_seconds <= 0:
        return upload.steps[last]
    by_time = int((time.monotonic() - upload.started) / stub.upload_step_seconds)
    return upload.steps[min(last, max(upload.polls, by_time) - 1)] if max(upload.polls, by_time) > 0 else 0
