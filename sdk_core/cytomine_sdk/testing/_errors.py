"""Error answers of the servers, per generation (docs/server-facts.md section 3).

Each helper returns an :class:`~cytomine_sdk.testing.HttpError` for a handler to raise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._http import HttpError, JsonObject, Request, error_message_response, json_response

if TYPE_CHECKING:
    from ._cytomine_stub import CytomineStub

def validation_error(stub: CytomineStub, message: str, status: int = 400) -> HttpError:
    """Failure inside an add/update/delete helper: ``{"success":false,"errors":"..."}``."""
    body: JsonObject = {"success": False, "errors": message}
    if stub.generation != "legacy":
        body["errorValues"] = None
    return HttpError(json_response(body, status))


def not_found(stub: CytomineStub, class_name: str, ident: int) -> HttpError:
    if stub.generation == "legacy":
        message = f"{class_name} not found with id : {ident}"
    else:
        message = f"{class_name} not found with filters : {{id={ident}}}"
    return HttpError(error_message_response(404, message))


def problem(status: int, title: str, detail: str, instance: str) -> HttpError:
    """Spring ``ProblemDetail`` (2026 repository endpoints)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": instance}
    return HttpError(json_response(body, status, content_type="application/problem+json"))


def repository_not_found(stub: CytomineStub, req: Request, class_name: str, ident: int) -> HttpError:
    """Not-found for a repository-backed domain: ProblemDetail on 2026, legacy body otherwise."""
    if stub.generation == "2026":
        return problem(404, "Not Found", f"Unable to find {class_name.lower()} with id: {ident}", req.path)
    return not_found(stub, class_name, ident)


def bad_request(message: str) -> HttpError:
    return HttpError(error_message_response(400, message))
