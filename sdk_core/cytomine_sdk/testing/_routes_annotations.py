"""Handlers of annotations: listings with their filters, reads, and writes (one or a bulk)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._envelopes import _PAST, ItemError, _bulk_create, command_envelope, legacy_envelope
from ._errors import bad_request, not_found, validation_error
from ._geometry import wkt_is_valid
from ._http import BODY_PARSE_ERROR, JsonObject, Request, Response, json_response
from ._params import as_id_list, flag_param, id_list_param, int_param
from ._routes_users import _caller
from ._shapes import annotation_groups, annotation_json, annotation_listing_row, now_ms
from ._state import StubAnnotation, StubProject

if TYPE_CHECKING:
    from ._cytomine_stub import CytomineStub

# -- annotations --


def _listing_params(req: Request) -> dict[str, str]:
    params = req.args
    if req.method == "POST" and req.body.strip():
        body = req.json_object()
        for key, value in body.items():
            if isinstance(value, list):
                params[key] = ",".join(str(v) for v in value)
            elif isinstance(value, bool):
                params[key] = "true" if value else "false"
            elif value is not None:
                params[key] = str(value)
    return params


def h_annotation_list(stub: CytomineStub, req: Request) -> Response:
    params = _listing_params(req)
    annotations = sorted(stub.state.annotations.values(), key=lambda a: a.id, reverse=True)
    if flag_param(params, "reviewed"):
        annotations = []  # the stub has no reviewed annotations

    def keep(values: list[int] | None, actual: int) -> bool:
        return values is None or actual in values

    projects = id_list_param(params, "project")
    images = id_list_param(params, "image") or id_list_param(params, "images")
    users = id_list_param(params, "user") or id_list_param(params, "users")
    terms = id_list_param(params, "term") or id_list_param(params, "terms")
    excluded = id_list_param(params, "excludedAnnotation") or []
    after = int_param(params, "afterThan", -1)
    before = int_param(params, "beforeThan", -1)
    rows = []
    groups = annotation_groups(params)
    for a in annotations:
        if not (keep(projects, a.project) and keep(images, a.image) and keep(users, a.user)):
            continue
        if terms is not None and not set(terms) & set(a.terms):
            continue
        if flag_param(params, "noTerm") and a.terms:
            continue
        if flag_param(params, "multipleTerm") and len(a.terms) < 2:
            continue
        if a.id in excluded or (after >= 0 and a.created <= after) or (before >= 0 and a.created >= before):
            continue
        rows.append(annotation_listing_row(stub, a, groups))
    envelope = legacy_envelope(rows, int_param(params, "max", 0), int_param(params, "offset", 0))
    return json_response(envelope)


def _get_annotation(stub: CytomineStub, ident: int) -> StubAnnotation:
    annotation = stub.state.annotations.get(ident)
    if annotation is None:
        raise not_found(stub, "Annotation", ident)
    return annotation


def h_annotation_get(stub: CytomineStub, req: Request) -> Response:
    return json_response(annotation_json(stub, _get_annotation(stub, req.path_int("id"))))


def _annotation_terms(stub: CytomineStub, item: JsonObject, project: StubProject | None) -> list[int] | None:
    raw = item.get("term", item.get("terms"))
    if raw is None:
        return None
    try:
        terms = as_id_list(raw)
    except ValueError:
        raise ItemError("Annotation term must be a list of term ids") from None
    for term_id in terms:
        term = stub.state.terms.get(term_id)
        if term is None or project is None or term.ontology != project.ontology:
            raise ItemError(f"Term {term_id} not found in the ontology of the project")
    return terms


def _check_location(item: JsonObject) -> str:
    if "location" not in item or item["location"] is None:
        raise ItemError("Annotation location is mandatory")
    location = item["location"]
    if not wkt_is_valid(location):
        raise ItemError(f"Annotation location is not a valid WKT geometry: {location!r}")
    return str(location).strip()


def _create_annotation_item(stub: CytomineStub, req: Request, item: Any) -> StubAnnotation:
    if not isinstance(item, dict):
        raise ItemError("Annotation must be a JSON object")
    location = _check_location(item)
    image_id = item.get("image")
    if image_id is None:
        raise ItemError("Annotation image is mandatory")
    image = stub.state.images.get(image_id) if isinstance(image_id, int) else None
    if image is None:
        raise ItemError(f"ImageInstance {image_id} not found", 404)
    project = stub.state.projects.get(image.project)
    terms = _annotation_terms(stub, item, project) or []
    slice_value = item.get("slice")
    slice_id = slice_value if isinstance(slice_value, int) else image.slice
    annotation = StubAnnotation(
        stub.state.new_id(), image.id, image.project, slice_id, _caller(req).id, location, now_ms(), terms=terms
    )
    stub.state.annotations[annotation.id] = annotation
    return annotation


def _annotation_envelope(stub: CytomineStub, annotation: StubAnnotation, obj: JsonObject, action: str) -> Response:
    envelope = command_envelope(
        stub,
        action=action,
        simple="UserAnnotation",
        key="annotation",
        obj=obj,
        message=f"UserAnnotation {annotation.id} {_PAST[action]}",
        callback={"imageID": str(annotation.image), "projectID": str(annotation.project)},
    )
    return json_response(envelope)


def h_annotation_create(stub: CytomineStub, req: Request) -> Response:
    body = req.json
    if isinstance(body, list):
        return _bulk_create(stub, req, body, "userannotation", _create_annotation_item)
    if not isinstance(body, dict):
        raise bad_request(BODY_PARSE_ERROR)
    try:
        annotation = _create_annotation_item(stub, req, body)
    except ItemError as exc:
        raise validation_error(stub, exc.message, exc.status) from None
    return _annotation_envelope(stub, annotation, annotation_json(stub, annotation), "Add")


def h_annotation_update(stub: CytomineStub, req: Request) -> Response:
    annotation = _get_annotation(stub, req.path_int("id"))
    body = req.json_object()
    try:
        location = _check_location(body) if "location" in body else annotation.location
        terms = _annotation_terms(stub, body, stub.state.projects.get(annotation.project))
    except ItemError as exc:
        raise validation_error(stub, exc.message, exc.status) from None
    annotation.location = location
    if terms is not None:
        annotation.terms = terms
    annotation.updated = now_ms()
    return _annotation_envelope(stub, annotation, annotation_json(stub, annotation), "Edit")


def h_annotation_delete(stub: CytomineStub, req: Request) -> Response:
    annotation = _get_annotation(stub, req.path_int("id"))
    obj = annotation_json(stub, annotation)
    del stub.state.annotations[annotation.id]
    return _annotation_envelope(stub, annotation, obj, "Delete")
