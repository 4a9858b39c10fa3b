"""Handlers of projects (and their members), ontologies and terms."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._envelopes import (
    _PAST,
    ItemError,
    _bulk_create,
    apply_field_filters,
    command_envelope,
    http_command_response,
    list_response,
)
from ._errors import bad_request, not_found, repository_not_found, validation_error
from ._http import BODY_PARSE_ERROR, HttpError, JsonObject, Request, Response, error_message_response, json_response
from ._params import as_id_list, flag_param
from ._routes_users import _caller, _get_user
from ._shapes import now_ms, ontology_json, project_json, term_json, user_json
from ._state import StubOntology, StubProject, StubTerm

if TYPE_CHECKING:
    from ._cytomine_stub import CytomineStub

# -- projects --


def _get_project(stub: CytomineStub, ident: int) -> StubProject:
    project = stub.state.projects.get(ident)
    if project is None:
        raise not_found(stub, "Project", ident)
    return project


def _project_rows(stub: CytomineStub, req: Request, projects: Iterable[StubProject]) -> list[JsonObject]:
    args = req.args
    rows = []
    caller = _caller(req)
    for project in projects:
        row = project_json(stub, project)
        if flag_param(args, "withMembersCount"):
            row["membersCount"] = len(set(project.users) | set(project.admins))
        if flag_param(args, "withCurrentUserRoles"):
            row["currentUserRoles"] = {"admin": caller.id in project.admins, "representative": False}
        if flag_param(args, "withDescription"):
            row["description"] = None
        if flag_param(args, "withLastActivity"):
            row["lastActivity"] = None
        rows.append(row)
    return apply_field_filters(args, rows, {"ontology_id": "ontology"})


def h_project_list(stub: CytomineStub, req: Request) -> Response:
    caller = _caller(req)
    visible = [p for p in stub.state.projects.values() if caller.id in p.users or caller.id in p.admins]
    return list_response(stub, req, _project_rows(stub, req, visible))


def h_user_project_list(stub: CytomineStub, req: Request) -> Response:
    user_id = req.path_int("id")
    if user_id not in stub.state.users:
        raise not_found(stub, "User", user_id)
    member = [p for p in stub.state.projects.values() if user_id in p.users or user_id in p.admins]
    return list_response(stub, req, _project_rows(stub, req, member))


def h_project_get(stub: CytomineStub, req: Request) -> Response:
    return json_response(project_json(stub, _get_project(stub, req.path_int("id"))))


_PROJECT_FLAGS = {
    "blindMode": "blind_mode",
    "areImagesDownloadable": "are_images_downloadable",
    "isClosed": "is_closed",
    "isReadOnly": "is_read_only",
    "isRestricted": "is_restricted",
    "hideUsersLayers": "hide_users_layers",
    "hideAdminsLayers": "hide_admins_layers",
}


def _apply_project_body(stub: CytomineStub, project: StubProject, body: JsonObject) -> None:
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            raise validation_error(stub, "Project name cannot be empty")
        for other in stub.state.projects.values():
            if other.id != project.id and other.name == name:
                raise validation_error(stub, f"Project {name} already exist!", 409)
        project.name = name
    if "ontology" in body:
        ontology = body["ontology"]
        if ontology is not None and (not isinstance(ontology, int) or ontology not in stub.state.ontologies):
            raise validation_error(stub, f"Ontology {ontology} not found")
        project.ontology = ontology
    for json_name, attribute in _PROJECT_FLAGS.items():
        if json_name in body:
            setattr(project, attribute, bool(body[json_name]))
    try:
        if "users" in body:
            project.users = sorted(set(as_id_list(body["users"])))
        if "admins" in body:
            project.admins = sorted(set(as_id_list(body["admins"])))
    except ValueError:
        raise validation_error(stub, "users and admins must be lists of user ids") from None


def _project_message(project: StubProject, action: str) -> str:
    return f"Project {project.id} ({project.name}) {_PAST[action]}"


def h_project_create(stub: CytomineStub, req: Request) -> Response:
    body = req.json_object()
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise validation_error(stub, "Project name cannot be empty")
    caller = _caller(req)
    project = StubProject(stub.state.new_id(), "", None, now_ms())
    _apply_project_body(stub, project, body)
    project.users = sorted(set(project.users) | {caller.id})
    project.admins = sorted(set(project.admins) | {caller.id})
    stub.state.projects[project.id] = project
    envelope = command_envelope(
        stub,
        action="Add",
        simple="Project",
        key="project",
        obj=project_json(stub, project),
        message=_project_message(project, "Add"),
    )
    return json_response(envelope)


def _body_date(value: Any) -> int | None:
    """A date of a legacy domain body (epoch ms, string or number); None if absent or unreadable."""
    try:
        return int(str(value))
    except ValueError:
        return None


def h_project_update(stub: CytomineStub, req: Request) -> Response:
    """A PUT replaces the project: the servers rebuild it from the body, absent fields included.

    Project.buildDomainFromJson (2025, 2026 core; Grails: insertDataIntoDomain) reads every field
    with a default: an absent name is null (Grails: "name must be set!"; Spring: the NOT NULL
    column refuses it), an absent ontology none, absent flags false, an absent `created` null.
    Only `users` and `admins` (read by ProjectService.update) are left alone when absent.
    """
    project = _get_project(stub, req.path_int("id"))
    body = req.json_object()
    if not isinstance(body.get("name"), str):
        raise validation_error(stub, "name must be set! value=null" if stub.generation == "legacy"
                               else "Cannot persist object: null value in column \"name\"")
    project = dataclasses.replace(project, ontology=None, created=_body_date(body.get("created")))
    for attribute in _PROJECT_FLAGS.values():
        setattr(project, attribute, False)
    _apply_project_body(stub, project, body)
    project.updated = now_ms()
    stub.state.projects[project.id] = project
    envelope = command_envelope(
        stub,
        action="Edit",
        simple="Project",
        key="project",
        obj=project_json(stub, project),
        message=_project_message(project, "Edit"),
    )
    return json_response(envelope)


def h_project_delete(stub: CytomineStub, req: Request) -> Response:
    project = _get_project(stub, req.path_int("id"))
    obj = project_json(stub, project)
    state = stub.state
    del state.projects[project.id]
    for image in state.images_of_project(project.id):
        del state.images[image.id]
    for annotation in [a for a in state.annotations.values() if a.project == project.id]:
        del state.annotations[annotation.id]
    envelope = command_envelope(
        stub, action="Delete", simple="Project", key="project", obj=obj, message=_project_message(project, "Delete")
    )
    return json_response(envelope)


def h_project_members(stub: CytomineStub, req: Request) -> Response:
    project = _get_project(stub, req.path_int("id"))
    members = sorted(set(project.users) | set(project.admins))
    return list_response(stub, req, [user_json(stub, stub.state.users[i]) for i in members if i in stub.state.users])


def _add_member(stub: CytomineStub, req: Request, *, manager: bool) -> Response:
    project = _get_project(stub, req.path_int("project"))
    user = _get_user(stub, req, req.path_int("user"))
    project.users = sorted(set(project.users) | {user.id})
    if manager:
        project.admins = sorted(set(project.admins) | {user.id})
    return json_response({"data": {"message": "OK"}, "status": 200})


def h_project_add_member(stub: CytomineStub, req: Request) -> Response:
    return _add_member(stub, req, manager=False)


def h_project_add_manager(stub: CytomineStub, req: Request) -> Response:
    return _add_member(stub, req, manager=True)


# -- ontologies and terms --


def _get_ontology(stub: CytomineStub, req: Request, ident: int) -> StubOntology:
    ontology = stub.state.ontologies.get(ident)
    if ontology is None:
        raise repository_not_found(stub, req, "Ontology", ident)
    return ontology


def h_ontology_list(stub: CytomineStub, req: Request) -> Response:
    ontologies = list(stub.state.ontologies.values())
    if stub.generation != "2026" and flag_param(req.args, "light"):
        rows: list[JsonObject] = [{"id": o.id, "name": o.name} for o in ontologies]
    else:
        rows = [ontology_json(stub, o) for o in ontologies]
    return list_response(stub, req, rows, repository=True)


def h_ontology_get(stub: CytomineStub, req: Request) -> Response:
    return json_response(ontology_json(stub, _get_ontology(stub, req, req.path_int("id"))))


def h_ontology_terms(stub: CytomineStub, req: Request) -> Response:
    ontology = _get_ontology(stub, req, req.path_int("id"))
    rows = [term_json(stub, t) for t in stub.state.terms_of_ontology(ontology.id)]
    return list_response(stub, req, rows, repository=True)


def h_project_terms(stub: CytomineStub, req: Request) -> Response:
    project = _get_project(stub, req.path_int("id"))
    terms = stub.state.terms_of_ontology(project.ontology) if project.ontology is not None else []
    return list_response(stub, req, [term_json(stub, t) for t in terms], repository=True)


def h_term_list(stub: CytomineStub, req: Request) -> Response:
    return list_response(stub, req, [term_json(stub, t) for t in stub.state.terms.values()])


def _get_term(stub: CytomineStub, req: Request, ident: int) -> StubTerm:
    term = stub.state.terms.get(ident)
    if term is None:
        raise repository_not_found(stub, req, "Term", ident)
    return term


def h_term_get(stub: CytomineStub, req: Request) -> Response:
    return json_response(term_json(stub, _get_term(stub, req, req.path_int("id"))))


def _term_error(stub: CytomineStub, message: str, status: int = 400) -> HttpError:
    if stub.generation == "2026":  # repository: bean validation / ResponseStatusException
        return HttpError(error_message_response(status, message))
    return validation_error(stub, message, status)


def _apply_term_body(stub: CytomineStub, term: StubTerm, body: JsonObject, *, creating: bool) -> None:
    """Copy the writable fields of ``body`` into ``term``; raise ItemError if invalid.

    2026 ``UpdateTerm`` only carries ``name`` and ``color``.
    """
    if stub.generation == "2026" and not creating:
        body = {k: v for k, v in body.items() if k in ("name", "color")}
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            raise ItemError("Term name cannot be empty")
        term.name = name
    if "color" in body:
        if not isinstance(body["color"], str):
            raise ItemError("Term color must be a string")
        term.color = body["color"]
    if "comment" in body:
        term.comment = body["comment"] if isinstance(body["comment"], str) else None
    if "ontology" in body:
        ontology = body["ontology"]
        if not isinstance(ontology, int) or isinstance(ontology, bool):
            raise ItemError("Term ontology must be an ontology id")
        if ontology not in stub.state.ontologies:
            raise ItemError(f"Ontology {ontology} not found", 404)
        term.ontology = ontology
    if "parent" in body:
        parent = body["parent"]
        if parent is not None and (not isinstance(parent, int) or parent not in stub.state.terms):
            raise ItemError(f"Term {parent} not found")
        term.parent = parent
    for other in stub.state.terms.values():
        if other.id != term.id and other.ontology == term.ontology and other.name == term.name:
            raise ItemError(f"Term {term.name} already exist in this ontology!", 409)


def _term_write_response(stub: CytomineStub, term: StubTerm, obj: JsonObject, action: str) -> Response:
    if stub.generation == "2026":
        return json_response(http_command_response(action=action, simple="Term", record=obj, data_type="TERM"))
    envelope = command_envelope(
        stub,
        action=action,
        simple="Term",
        key="term",
        obj=obj,
        message=f"Term {term.id} ({term.name}) {_PAST[action]}",
        callback={"ontologyID": str(term.ontology)},
    )
    return json_response(envelope)


def _create_term_item(stub: CytomineStub, req: Request, body: Any) -> StubTerm:
    if not isinstance(body, dict):
        raise ItemError("Term must be a JSON object")
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise ItemError("Term name cannot be empty")
    if "ontology" not in body:
        raise ItemError("Term ontology is mandatory")
    term = StubTerm(stub.state.new_id(), "", "#000000", -1, now_ms())
    _apply_term_body(stub, term, body, creating=True)
    stub.state.terms[term.id] = term
    return term


def h_term_create(stub: CytomineStub, req: Request) -> Response:
    body = req.json
    if isinstance(body, list) and stub.generation != "2026":  # add()-based POST: bulk (docs/server-facts.md 6)
        return _bulk_create(stub, req, body, "term", _create_term_item)
    if not isinstance(body, dict):
        raise bad_request(BODY_PARSE_ERROR)
    try:
        term = _create_term_item(stub, req, body)
    except ItemError as exc:
        raise _term_error(stub, exc.message, exc.status) from None
    return _term_write_response(stub, term, term_json(stub, term), "Add")


def h_term_update(stub: CytomineStub, req: Request) -> Response:
    term = _get_term(stub, req, req.path_int("id"))
    candidate = dataclasses.replace(term)
    try:
        _apply_term_body(stub, candidate, req.json_object(), creating=False)
    except ItemError as exc:
        raise _term_error(stub, exc.message, exc.status) from None
    candidate.updated = now_ms()
    stub.state.terms[term.id] = candidate
    return _term_write_response(stub, candidate, term_json(stub, candidate), "Edit")


def h_term_delete(stub: CytomineStub, req: Request) -> Response:
    term = _get_term(stub, req, req.path_int("id"))
    obj = term_json(stub, term)
    del stub.state.terms[term.id]
    for annotation in stub.state.annotations.values():
        if term.id in annotation.terms:
            annotation.terms.remove(term.id)
    return _term_write_response(stub, term, obj, "Delete")


def h_ontology_create(stub: CytomineStub, req: Request) -> Response:
    body = req.json_object()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _term_error(stub, "Ontology name cannot be empty")
    if any(o.name == name for o in stub.state.ontologies.values()):
        raise _term_error(stub, f"Ontology {name} already exist!", 409)
    ontology = StubOntology(stub.state.new_id(), name, _caller(req).id, now_ms())
    stub.state.ontologies[ontology.id] = ontology
    obj = ontology_json(stub, ontology)
    if stub.generation == "2026":
        return json_response(http_command_response(action="Add", simple="Ontology", record=obj, data_type="ONTOLOGY"))
    message = f"Ontology {ontology.id} ({name}) added"
    return json_response(command_envelope(stub, action="Add", simple="Ontology", key="ontology", obj=obj,
                                          message=message))
