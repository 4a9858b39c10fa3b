"""Handlers of the metadata of any domain object: attached files (multipart) and properties."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

from ._envelopes import _PAST, ItemError, _bulk_create, command_envelope, list_response
from ._errors import bad_request, not_found, validation_error
from ._http import HttpError, JsonObject, Request, Response, error_message_response, json_response, parse_multipart
from ._params import parse_int
from ._shapes import attached_file_json, now_ms, property_json
from ._state import StubAttachedFile, StubProperty

if TYPE_CHECKING:
    from ._cytomine_stub import CytomineStub

# -- attached files (multipart) --


def h_attached_file_create(stub: CytomineStub, req: Request) -> Response:
    if not req.content_type.lower().startswith("multipart/form-data"):
        raise bad_request("Request is not a multipart request")
    parts = parse_multipart(req.content_type, req.body)
    params = req.args
    for name, filename, content in parts:
        if filename is None:
            params.setdefault(name, content.decode("utf-8", errors="replace"))
    files = [(filename, content) for name, filename, content in parts if name == "files[]"]
    if not files:
        raise bad_request("Required part 'files[]' is not present.")
    domain_ident = params.get("domainIdent")
    domain_class = params.get("domainClassName")
    if domain_ident is None or domain_class is None:
        raise bad_request("domainIdent and domainClassName are required")
    filename = params.get("filename") or files[0][0] or "file"
    attached = StubAttachedFile(
        stub.state.new_id(),
        domain_class,
        parse_int(domain_ident, "domainIdent"),
        filename,
        params.get("key"),
        files[0][1],
        now_ms(),
    )
    stub.state.attached_files[attached.id] = attached
    return json_response(attached_file_json(stub, attached))


def _get_attached_file(stub: CytomineStub, ident: int) -> StubAttachedFile:
    attached = stub.state.attached_files.get(ident)
    if attached is None:
        raise not_found(stub, "AttachedFile", ident)
    return attached


def h_attached_file_get(stub: CytomineStub, req: Request) -> Response:
    return json_response(attached_file_json(stub, _get_attached_file(stub, req.path_int("id"))))


def h_attached_file_download(stub: CytomineStub, req: Request) -> Response:
    attached = _get_attached_file(stub, req.path_int("id"))
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="{attached.filename}"',
    }
    return Response(200, attached.content, headers)


# -- properties (key-value metadata of any domain object) --


_ANNOTATION_CLASSES = ("UserAnnotation", "AlgoAnnotation", "ReviewedAnnotation", "AnnotationDomain")


def _simple_class(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _properties_of(stub: CytomineStub, classes: Sequence[str], ident: int) -> list[StubProperty]:
    simple = {_simple_class(c) for c in classes}
    return [p for p in stub.state.properties.values()
            if p.domain_ident == ident and _simple_class(p.domain_class_name) in simple]


def _domain_target(req: Request) -> tuple[Sequence[str], int]:
    """(class names, id) of the domain object a property route is about."""
    if "domainClassName" in req.params:
        return [unquote(req.params["domainClassName"])], req.path_int("domainIdent")
    targets: tuple[tuple[str, Sequence[str]], ...] = (
        ("project", ("Project",)), ("imageinstance", ("ImageInstance",)), ("annotation", _ANNOTATION_CLASSES))
    for name, classes in targets:
        if name in req.params:
            return classes, req.path_int(name)
    raise bad_request("No domain in the path")


def _get_property(stub: CytomineStub, req: Request) -> StubProperty:
    classes, ident = _domain_target(req)
    wanted = req.path_int("id")
    for prop in _properties_of(stub, classes, ident):
        if prop.id == wanted:
            return prop
    raise not_found(stub, "Property", wanted)


def h_property_list(stub: CytomineStub, req: Request) -> Response:
    classes, ident = _domain_target(req)
    return list_response(stub, req, [property_json(stub, p) for p in _properties_of(stub, classes, ident)])


def h_property_get(stub: CytomineStub, req: Request) -> Response:
    return json_response(property_json(stub, _get_property(stub, req)))


def h_property_by_key(stub: CytomineStub, req: Request) -> Response:
    classes, ident = _domain_target(req)
    key = unquote(req.params["key"])
    for prop in _properties_of(stub, classes, ident):
        if prop.key == key:
            return json_response(property_json(stub, prop))
    raise HttpError(error_message_response(404, f"Property not found with key : {key}"))


def _property_envelope(stub: CytomineStub, prop: StubProperty, action: str) -> Response:
    return json_response(command_envelope(
        stub, action=action, simple="Property", key="property", obj=property_json(stub, prop),
        message=f"Property {prop.id} ({prop.key}) {_PAST[action]}",
        callback={"domainClassName": prop.domain_class_name, "domainIdent": str(prop.domain_ident)}))


def _create_property_item(stub: CytomineStub, req: Request, item: Any) -> StubProperty:
    if not isinstance(item, dict):
        raise ItemError("Property must be a JSON object")
    if "domainClassName" in req.params:
        item = {**item, "domainClassName": unquote(req.params["domainClassName"]),
                "domainIdent": req.path_int("domainIdent")}
    key, domain_class, ident = item.get("key"), item.get("domainClassName"), item.get("domainIdent")
    if not isinstance(key, str) or not key.strip():
        raise ItemError("Property key cannot be empty")
    if not isinstance(domain_class, str) or not isinstance(ident, int) or isinstance(ident, bool):
        raise ItemError("Property domainClassName and domainIdent are mandatory")
    value = item.get("value")
    prop = StubProperty(stub.state.new_id(), domain_class, ident, key, "" if value is None else str(value), now_ms())
    stub.state.properties[prop.id] = prop
    return prop


def h_property_create(stub: CytomineStub, req: Request) -> Response:
    body = req.json
    if isinstance(body, list):
        return _bulk_create(stub, req, body, "property", _create_property_item)
    try:
        prop = _create_property_item(stub, req, body)
    except ItemError as exc:
        raise validation_error(stub, exc.message, exc.status) from None
    return _property_envelope(stub, prop, "Add")


def h_property_update(stub: CytomineStub, req: Request) -> Response:
    prop = _get_property(stub, req)
    body = req.json_object()
    key = body.get("key", prop.key)
    if not isinstance(key, str) or not key.strip():
        raise validation_error(stub, "Property key cannot be empty")
    prop.key, prop.updated = key, now_ms()
    if "value" in body:
        prop.value = "" if body["value"] is None else str(body["value"])
    return _property_envelope(stub, prop, "Edit")


def h_property_delete(stub: CytomineStub, req: Request) -> Response:
    prop = _get_property(stub, req)
    del stub.state.properties[prop.id]
    return _property_envelope(stub, prop, "Delete")


def _property_keys(stub: CytomineStub, req: Request, classes: Sequence[str]) -> Response:
    project, image = req.arg("idProject"), req.arg("idImage")
    if project is None and image is None:
        raise bad_request("Parameter idProject or idImage is required")
    if image is not None:
        wanted = {parse_int(image, "idImage")} if "ImageInstance" in classes else {
            a.id for a in stub.state.annotations.values() if a.image == parse_int(image, "idImage")}
    elif "ImageInstance" in classes:
        wanted = {i.id for i in stub.state.images_of_project(parse_int(project or "", "idProject"))}
    else:
        wanted = {a.id for a in stub.state.annotations.values() if a.project == parse_int(project or "", "idProject")}
    keys = sorted({p.key for p in stub.state.properties.values()
                   if p.domain_ident in wanted and _simple_class(p.domain_class_name) in classes})
    return list_response(stub, req, cast(list[JsonObject], keys))


def h_annotation_property_keys(stub: CytomineStub, req: Request) -> Response:
    return _property_keys(stub, req, _ANNOTATION_CLASSES)


def h_image_property_keys(stub: CytomineStub, req: Request) -> Response:
    return _property_keys(stub, req, ("ImageInstance",))
