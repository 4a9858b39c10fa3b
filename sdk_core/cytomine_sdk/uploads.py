"""Uploading slides to the image server (PIMS), streamed from disk, and waiting for conversion.

    from cytomine_sdk.uploads import upload_image

    result = upload_image(api_client, "slide.svs", storage=3, projects=[42], wait=True)
    print(result.uploaded_file.status, result.response)

The file is sent as multipart/form-data (part `files[]`) read chunk by chunk, never whole; the
request is signed like any other (the content type with its boundary is signed). PIMS answers
a JSON array with one item (docs/server-facts.md section 9); its error message is raised as a typed error.
With `wait=True` the uploaded file's status is polled until the image is deployed, and an
ERROR_* status raises UploadError.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from cytomine_sdk.exceptions import CytomineError
from cytomine_sdk.multipart import MultipartBody
from cytomine_sdk.parsing import loads, parse_model_list
from cytomine_sdk.progress import Progress, ProgressCallback
from cytomine_sdk.validation import ids, positive_int

if TYPE_CHECKING:
    from cytomine_sdk.client import ApiClient
    from cytomine_sdk.models import UploadedFile, UploadResponse

# Uploaded-file statuses (docs/server-facts.md section 9, spec/services/uploaded_file.yaml). Below 100 an even
# code is a step in progress and an odd one its failure; from 100 the file is done. Legacy Grails
# servers used 0-8.
STATUS_NAMES = {
    0: "UPLOADED",
    10: "DETECTING_FORMAT",
    11: "ERROR_FORMAT",
    20: "EXTRACTING_DATA",
    21: "ERROR_EXTRACTION",
    30: "CONVERTING",
    31: "ERROR_CONVERSION",
    40: "DEPLOYING",
    41: "ERROR_DEPLOYMENT",
    50: "UNPACKING",
    51: "ERROR_UNPACKING",
    60: "CHECKING_INTEGRITY",
    61: "ERROR_INTEGRITY",
    100: "DEPLOYED",
    102: "EXTRACTED",
    104: "CONVERTED",
    106: "UNPACKED",
}
LEGACY_STATUS_NAMES = {
    1: "CONVERTED",
    2: "DEPLOYED",
    3: "ERROR_FORMAT",
    4: "ERROR_CONVERSION",
    5: "UNCOMPRESSED",
    6: "TO_DEPLOY",
    7: "TO_CONVERT",
    8: "ERROR_DEPLOYMENT",
}
DONE = frozenset({100, 102, 104, 106, 2})
FAILED = frozenset({11, 21, 31, 41, 51, 61, 3, 4, 8})


def is_done(status: int | None) -> bool:
    """Whether an uploaded file's status is final and successful (codes from 100; legacy 2)."""
    return status is not None and (status >= 100 or status == 2)


def is_failed(status: int | None) -> bool:
    """Whether an uploaded file's status is a failure: an odd code below 100 (from 10), or a legacy
    error; a code the SDK does not know yet follows the same rule rather than being polled for an
    hour."""
    return status is not None and (status in FAILED or (10 <= status < 100 and status % 2 == 1))


class UploadError(CytomineError):
    """The image server could not import the uploaded file (an ERROR_* status)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class UploadTimeoutError(UploadError):
    """The uploaded file was still being processed when the wait ended."""


def status_name(status: int | None) -> str:
    """The name of an uploaded-file status code."""
    if status is None:
        return "UNKNOWN"
    return STATUS_NAMES.get(status) or LEGACY_STATUS_NAMES.get(status) or f"STATUS_{status}"


@dataclass
class UploadResult:
    """What an upload produced.

    Attributes:
        response: PIMS's answer for the file (a `models.UploadResponse`).
        uploaded_file: the uploaded file as last seen (after waiting, its final state), or the
            one in PIMS's answer.
    """

    response: UploadResponse
    uploaded_file: UploadedFile

    @property
    def status(self) -> str:
        """Name of the uploaded file's status (e.g. ``DEPLOYED``)."""
        return status_name(getattr(self.uploaded_file, "status", None))


def _check_arguments(path: Path, storage: int, projects: Sequence[int], properties: Mapping[str, str]) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"path: {path} is not a file")
    positive_int("storage", storage, "a storage id")
    ids("projects", projects, "a project id")
    for key, value in properties.items():
        if not isinstance(key, str) or not isinstance(value, str) or "," in key or "," in value or not key:
            # PIMS takes keys and values as two comma-separated lists
            raise ValueError(f"properties: keys and values must be non-empty strings without commas, got {key!r}")


def upload_image(
    api_client: ApiClient,
    path: str | Path,
    *,
    storage: int,
    projects: Sequence[int] = (),
    properties: Mapping[str, str] | None = None,
    sync: bool = False,
    ims: bool = False,
    timeout: float | tuple[float, float] | None = None,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
    wait: bool = False,
    wait_timeout: float = 3600.0,
    poll_interval: float = 2.0,
) -> UploadResult:
    """Upload one image file to the image server and optionally wait until it is ready.

    Args:
        path: the file to upload; it is streamed, never read whole into memory.
        storage: id of the storage receiving the file.
        projects: ids of projects in which to add the image.
        properties: key/value properties to set on the created image.
        sync: ask PIMS to import the file before answering (the answer then lists the images).
        ims: PIMS is mounted under /ims (2026 helm/compose deployments); otherwise it is at
            `Configuration.pims_url` (by default the host).
        timeout: seconds, or (connect, read), for the upload request.
        progress, on_progress: a tqdm bar (the `progress` extra) / a callback with
            (bytes sent, total bytes).
        wait: poll the uploaded file until it is deployed; ERROR_* statuses raise UploadError and
            a wait longer than `wait_timeout` seconds raises UploadTimeoutError.
    """
    file = Path(path)
    properties = dict(properties or {})
    _check_arguments(file, storage, projects, properties)
    # Current PIMS reads storage/projects, older ones idStorage/idProject: send both.
    query: dict[str, str] = {"storage": str(storage), "idStorage": str(storage)}
    if projects:
        query["projects"] = query["idProject"] = ",".join(str(p) for p in projects)
    if sync:
        query["sync"] = "true"
    if properties:
        query["keys"] = ",".join(properties)
        query["values"] = ",".join(properties.values())
    url = ("{pims}/ims/upload?" if ims else "{pims}/upload?") + urlencode(query)
    size = file.stat().st_size
    with Progress(size, bar=progress, callback=on_progress, description=file.name) as report:
        body = MultipartBody([("files[]", file)], on_read=report.advance)
        try:
            headers = {"Content-Type": body.content_type, "Content-Length": str(len(body))}
            resp = api_client.send("POST", url, headers=headers, body=body, timeout=timeout)
            raw = resp.data
        finally:
            body.close()
    response = _parse_upload_answer(raw)
    uploaded_file = response.uploaded_file if response is not None else None
    if response is None or uploaded_file is None:
        raise UploadError(f"the image server answered no uploaded file for {file.name}: {raw[:200]!r}")
    if wait:
        if uploaded_file.id is None:
            raise UploadError(f"the image server answered an uploaded file without id for {file.name}")
        uploaded_file = wait_until_ready(
            api_client, uploaded_file.id, timeout=wait_timeout, poll_interval=poll_interval
        )
    return UploadResult(response, uploaded_file)


def _parse_upload_answer(raw: bytes) -> UploadResponse | None:
    from cytomine_sdk.models import UploadResponse

    data = loads(raw)
    items = parse_model_list(UploadResponse, raw) if isinstance(data, list) else [UploadResponse.from_dict(data)]
    if not items:
        raise UploadError("the image server answered an empty list")
    item = items[0]
    status = getattr(item, "status", 200)
    if status not in (None, 200):
        raise UploadError(f"the image server refused the file: {getattr(item, 'error', None) or status}", status=status)
    return item


def wait_until_ready(
    api_client: ApiClient, uploaded_file_id: int, *, timeout: float = 3600.0, poll_interval: float = 2.0
) -> UploadedFile:
    """Poll an uploaded file until the image is deployed; return its final state.

    Raises UploadError on an ERROR_* status, UploadTimeoutError after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        uploaded = api_client.uploaded_file_api.retrieve(uploaded_file_id)
        status = uploaded.status
        if is_done(status):
            return uploaded
        if is_failed(status):
            raise UploadError(f"uploaded file {uploaded_file_id} failed: {status_name(status)}", status=status)
        if time.monotonic() + poll_interval > deadline:
            raise UploadTimeoutError(
                f"uploaded file {uploaded_file_id} still {status_name(status)} after {timeout:.0f} s", status=status
            )
        time.sleep(poll_interval)
