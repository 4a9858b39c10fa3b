"""JSON shapes: each domain object as each server generation writes it, and its dates.

Fields per fields.tsv, dates per docs/server-facts.md section 4: epoch milliseconds as strings on
domain JSON, ``yyyy-MM-ddTHH:mm:ss`` on the 2026 repository records.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ._geometry import geometry_metrics
from ._http import JsonObject
from ._params import flag_param
from ._state import (
    StubAnnotation,
    StubAttachedFile,
    StubImage,
    StubOntology,
    StubProject,
    StubProperty,
    StubTerm,
    StubUser,
)

if TYPE_CHECKING:
    from ._cytomine_stub import CytomineStub

def now_ms() -> int:
    return int(time.time() * 1000)


def epoch_string(ms: int | None) -> str | None:
    """Legacy domain JSON date: epoch milliseconds as a string."""
    return None if ms is None else str(ms)


def local_datetime(ms: int | None) -> str | None:
    """2026 repository record date: ``yyyy-MM-ddTHH:mm:ss`` (no zone, no millis)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


_CLASS_NAMES: dict[str, tuple[str, str]] = {
    # simple name: (Spring FQCN, Grails FQCN)
    "Project": ("be.cytomine.domain.project.Project", "be.cytomine.project.Project"),
    "Ontology": ("be.cytomine.domain.ontology.Ontology", "be.cytomine.ontology.Ontology"),
    "Term": ("be.cytomine.domain.ontology.Term", "be.cytomine.ontology.Term"),
    "ImageInstance": ("be.cytomine.domain.image.ImageInstance", "be.cytomine.image.ImageInstance"),
    "UserAnnotation": ("be.cytomine.domain.ontology.UserAnnotation", "be.cytomine.ontology.UserAnnotation"),
    "User": ("be.cytomine.domain.security.User", "be.cytomine.security.User"),
    "AttachedFile": ("be.cytomine.domain.meta.AttachedFile", "be.cytomine.meta.AttachedFile"),
    "Property": ("be.cytomine.domain.meta.Property", "be.cytomine.meta.Property"),
}


def class_name(generation: str, simple: str) -> str:
    """The ``class`` of a domain object of this generation (Spring or Grails package)."""
    spring, grails = _CLASS_NAMES[simple]
    return grails if generation == "legacy" else spring


def domain_base(stub: CytomineStub, simple: str, ident: int, created: int | None, updated: int | None) -> JsonObject:
    """Common ``getDataFromDomain`` part: id, class, epoch-ms string dates (Grails adds deleted)."""
    data: JsonObject = {
        "id": ident,
        "class": class_name(stub.generation, simple),
        "created": epoch_string(created),
        "updated": epoch_string(updated),
    }
    if stub.generation == "legacy":
        data["deleted"] = None
    return data


def project_json(stub: CytomineStub, project: StubProject) -> JsonObject:
    state = stub.state
    ontology = state.ontologies.get(project.ontology) if project.ontology is not None else None
    images = state.images_of_project(project.id)
    annotations = [a for a in state.annotations.values() if a.project == project.id]
    data = domain_base(stub, "Project", project.id, project.created, project.updated)
    data.update(
        {
            "name": project.name,
            "ontology": project.ontology,
            "ontologyName": ontology.name if ontology else None,
            "blindMode": project.blind_mode,
            "areImagesDownloadable": project.are_images_downloadable,
            "isClosed": project.is_closed,
            "isReadOnly": project.is_read_only,
            "isRestricted": project.is_restricted,
            "hideUsersLayers": project.hide_users_layers,
            "hideAdminsLayers": project.hide_admins_layers,
            "numberOfSlides": len(images),
            "numberOfImages": len(images),
            "numberOfAnnotations": len(annotations),
            "numberOfJobAnnotations": 0,
            "numberOfReviewedAnnotations": 0,
        }
    )
    return data


def term_json(stub: CytomineStub, term: StubTerm) -> JsonObject:
    """Legacy Term JSON, or the 2026 TermResponse record (``ontologyId``, ISO dates)."""
    if stub.generation == "2026":
        children = [t for t in stub.state.terms.values() if t.parent == term.id]
        return {
            "id": term.id,
            "name": term.name,
            "color": term.color,
            "comment": term.comment,
            "ontologyId": term.ontology,
            "children": [term_json(stub, child) for child in children],
            "created": local_datetime(term.created),
            "updated": local_datetime(term.updated),
            "deleted": None,
            "dataType": "TERM",
        }
    data = domain_base(stub, "Term", term.id, term.created, term.updated)
    data.update(
        {
            "name": term.name,
            "comment": term.comment,
            "ontology": term.ontology,
            "color": term.color,
            "parent": term.parent,
        }
    )
    return data


def _term_tree_node(stub: CytomineStub, term: StubTerm) -> JsonObject:
    fqcn = class_name(stub.generation, "Term")
    children = [t for t in stub.state.terms.values() if t.parent == term.id]
    return {
        "id": term.id,
        "key": term.id,
        "title": term.name,
        "name": term.name,
        "data": term.name,
        "color": term.color,
        "class": fqcn,
        "parent": term.parent,
        "attr": {"id": term.id, "type": fqcn},
        "isFolder": bool(children),
        "hideCheckbox": False,
        "checked": False,
        "children": [_term_tree_node(stub, child) for child in children],
    }


def ontology_json(stub: CytomineStub, ontology: StubOntology) -> JsonObject:
    """Legacy Ontology JSON, or the 2026 OntologyResponse record."""
    terms = stub.state.terms_of_ontology(ontology.id)
    if stub.generation == "2026":
        return {
            "id": ontology.id,
            "name": ontology.name,
            "user": ontology.user,
            "terms": [term_json(stub, t) for t in terms],
            "created": local_datetime(ontology.created),
            "updated": local_datetime(ontology.updated),
            "deleted": None,
            "dataType": "ONTOLOGY",
        }
    projects = [p for p in stub.state.projects.values() if p.ontology == ontology.id]
    data = domain_base(stub, "Ontology", ontology.id, ontology.created, ontology.updated)
    data.update(
        {
            "name": ontology.name,
            "title": ontology.name,
            "data": ontology.name,
            "attr": {"id": ontology.id, "type": class_name(stub.generation, "Ontology")},
            "isFolder": True,
            "key": ontology.id,
            "hideCheckbox": True,
            "state": "open",
            "user": ontology.user,
            "projects": [project_json(stub, p) for p in projects],
            "children": [_term_tree_node(stub, t) for t in terms if t.parent is None],
        }
    )
    return data


def _current_flags(generation: str) -> JsonObject:
    flags: JsonObject = {"adminByNow": False, "userByNow": True, "guestByNow": False, "isSwitched": False}
    if generation == "legacy":
        flags.update({"admin": False, "user": True, "guest": False})
    return flags


def user_json(stub: CytomineStub, user: StubUser, *, current: bool = False, by_id: bool = False) -> JsonObject:
    """User JSON of the stub's generation.

    * 2026: ``getDataFromDomain`` (epoch-ms *numbers*) for current user / lists,
      the repository ``UserResponse`` record (ISO dates) for ``GET /api/user/{id}.json``;
    * 2025: only ``id, username, name, fullName``;
    * legacy: full Grails JSON, keys for the caller himself.
    """
    generation = stub.generation
    me = stub.state.current_user.id == user.id
    data: JsonObject
    if generation == "2026" and by_id:
        data = {
            "id": user.id,
            "username": user.username,
            "firstname": user.firstname,
            "lastname": user.lastname,
            "email": user.email,
            "name": user.name,
            "isDeveloper": user.is_developer,
            "language": user.language,
            "origin": user.origin,
            "publicKey": user.public_key if me else None,
            "privateKey": user.private_key if me else None,
            "roles": [{"id": 2, "authority": "ROLE_USER", "dataType": "ROLE"}],
            "created": local_datetime(user.created),
            "updated": local_datetime(user.updated),
            "deleted": None,
            "dataType": "USER",
        }
    elif generation == "2026":
        data = {
            "id": user.id,
            "username": user.username,
            "firstname": user.firstname,
            "lastname": user.lastname,
            "email": user.email,
            "name": user.name,
            "fullName": user.name,
            "language": user.language,
            "isDeveloper": user.is_developer,
            "created": user.created,
            "updated": user.updated,
        }
    elif generation == "2025":
        data = {"id": user.id, "username": user.username, "name": user.name, "fullName": user.name}
    else:
        data = domain_base(stub, "User", user.id, user.created, user.updated)
        data.update(
            {
                "username": user.username,
                "firstname": user.firstname,
                "lastname": user.lastname,
                "email": user.email,
                "language": user.language,
                "origin": user.origin,
                "color": None,
                "enabled": user.enabled,
                "algo": False,
                "user": None,
            }
        )
        if me:
            data.update({"publicKey": user.public_key, "privateKey": user.private_key, "passwordExpired": False})
    if current:
        data.update(_current_flags(generation))
    return data


def image_json(stub: CytomineStub, image: StubImage) -> JsonObject:
    host = stub.host
    annotations = [a for a in stub.state.annotations.values() if a.image == image.id]
    zoom = max(0, math.ceil(math.log2(max(image.width, image.height) / 256)))
    data = domain_base(stub, "ImageInstance", image.id, image.created, image.updated)
    data.update(
        {
            "baseImage": image.base_image,
            "project": image.project,
            "user": image.user,
            "filename": image.filename,
            "originalFilename": image.filename,
            "instanceFilename": image.filename,
            "path": f"/data/images/{image.user}/{image.filename}",
            "blindedName": None,
            "contentType": image.content_type,
            "width": image.width,
            "height": image.height,
            "depth": 1,
            "duration": 1,
            "channels": 1,
            "extrinsicChannels": 1,
            "physicalSizeX": image.physical_size,
            "physicalSizeY": image.physical_size,
            "physicalSizeZ": None,
            "fps": None,
            "zoom": zoom,
            "tileSize": 256,
            "magnification": image.magnification,
            "bitPerSample": 8,
            "samplePerPixel": 3,
            "colorspace": "srgb",
            "numberOfAnnotations": len(annotations),
            "numberOfJobAnnotations": 0,
            "numberOfReviewedAnnotations": 0,
            "reviewed": False,
            "inReview": False,
            "reviewStart": None,
            "reviewStop": None,
            "reviewUser": None,
            "isVirtual": False,
            "thumb": f"{host}/api/imageinstance/{image.id}/thumb.png?maxSize=512",
            "preview": f"{host}/api/imageinstance/{image.id}/thumb.png?maxSize=1024",
            "macroURL": f"{host}/api/imageinstance/{image.id}/associated/macro.png?maxWidth=512",
        }
    )
    return data


def _gis(stub: CytomineStub, annotation: StubAnnotation) -> JsonObject:
    metrics = geometry_metrics(annotation.location)
    image = stub.state.images.get(annotation.image)
    resolution = image.physical_size if image else None
    if resolution:
        area, area_unit = metrics.area * resolution * resolution, "micron²"
        perimeter, perimeter_unit = metrics.perimeter * resolution / 1000, "mm"
    else:
        area, area_unit = metrics.area, "pixels²"
        perimeter, perimeter_unit = metrics.perimeter, "pixels"
    return {
        "area": area,
        "areaUnit": area_unit,
        "perimeter": perimeter,
        "perimeterUnit": perimeter_unit,
        "centroid": {"x": metrics.centroid[0], "y": metrics.centroid[1]},
    }


def _annotation_urls(stub: CytomineStub, annotation: StubAnnotation) -> JsonObject:
    host = stub.host
    crop = f"{host}/api/userannotation/{annotation.id}/crop.png"
    return {
        "cropURL": crop,
        "smallCropURL": f"{crop}?maxSize=256",
        "url": crop,
        "imageURL": f"{host}/#/project/{annotation.project}/image/{annotation.image}/annotation/{annotation.id}",
    }


def annotation_json(stub: CytomineStub, annotation: StubAnnotation) -> JsonObject:
    """UserAnnotation domain JSON (epoch-ms string dates)."""
    data = domain_base(stub, "UserAnnotation", annotation.id, annotation.created, annotation.updated)
    data.update(
        {
            "slice": annotation.slice,
            "image": annotation.image,
            "project": annotation.project,
            "user": annotation.user,
            "location": annotation.location,
            "geometryCompression": 0.0,
            "term": list(annotation.terms),
            "nbComments": 0,
            "reviewed": False,
        }
    )
    data.update(_gis(stub, annotation))
    data.update(_annotation_urls(stub, annotation))
    return data


ANNOTATION_GROUPS = ("basic", "meta", "wkt", "gis", "term", "track", "image", "slice", "user")
_GROUP_PARAM = {g: "WKT" if g == "wkt" else ("GIS" if g == "gis" else g.capitalize()) for g in ANNOTATION_GROUPS}


def annotation_groups(params: Mapping[str, str]) -> set[str]:
    """Column groups of an annotation listing (docs/server-facts.md section 8)."""
    shows = {g for g in ANNOTATION_GROUPS if f"show{_GROUP_PARAM[g]}" in params}
    groups = {g for g in shows if flag_param(params, f"show{_GROUP_PARAM[g]}")}
    if flag_param(params, "showDefault") or not shows:
        groups |= {"basic", "meta", "term"}
    return {g for g in groups if not flag_param(params, f"hide{_GROUP_PARAM[g]}")}


def annotation_listing_row(stub: CytomineStub, annotation: StubAnnotation, groups: set[str]) -> JsonObject:
    """One row of ``/api/annotation.json``: ``id`` and ``class`` always, then the requested groups."""
    row: JsonObject = {"id": annotation.id, "class": class_name(stub.generation, "UserAnnotation")}
    if "meta" in groups:
        row.update(
            {
                "created": annotation.created,
                "updated": annotation.updated,
                "image": annotation.image,
                "slice": annotation.slice,
                "project": annotation.project,
                "user": annotation.user,
                "nbComments": 0,
                "countReviewedAnnotations": 0,
                "reviewed": False,
            }
        )
        row.update(_annotation_urls(stub, annotation))
    if "wkt" in groups:
        row.update({"location": annotation.location, "geometryCompression": 0.0})
    if "gis" in groups:
        row.update(_gis(stub, annotation))
    if "term" in groups:
        row["term"] = list(annotation.terms)
        row["userByTerm"] = [
            {"id": annotation.id * 1000 + term, "term": term, "user": [annotation.user]} for term in annotation.terms
        ]
    if "track" in groups:
        row.update({"track": [], "annotationTrack": []})
    if "image" in groups:
        image = stub.state.images.get(annotation.image)
        row.update(
            {
                "originalFilename": image.filename if image else None,
                "instanceFilename": image.filename if image else None,
            }
        )
    if "slice" in groups:
        row.update({"channel": 0, "zStack": 0, "time": 0})
    if "user" in groups:
        user = stub.state.users.get(annotation.user)
        row.update({"creator": user.username if user else None, "name": user.name if user else None})
    return row


def attached_file_json(stub: CytomineStub, attached: StubAttachedFile) -> JsonObject:
    data = domain_base(stub, "AttachedFile", attached.id, attached.created, attached.updated)
    data.update(
        {
            "domainClassName": attached.domain_class_name,
            "domainIdent": attached.domain_ident,
            "filename": attached.filename,
            "key": attached.key,
            "url": f"/api/attachedfile/{attached.id}/download",
        }
    )
    return data


def property_json(stub: CytomineStub, prop: StubProperty) -> JsonObject:
    """Property domain JSON (``getDataFromDomain``)."""
    data = domain_base(stub, "Property", prop.id, prop.created, prop.updated)
    data.update({"domainClassName": prop.domain_class_name, "domainIdent": prop.domain_ident,
                 "key": prop.key, "value": prop.value})
    return data
