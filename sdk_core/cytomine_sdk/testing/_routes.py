"""The route table: :data:`ROUTES`, which handler serves each method and path on which generations.

Generations per endpoints.tsv; the order is the order of matching (a stub checks its own
:meth:`~cytomine_sdk.testing.CytomineStub.add_route` routes first).
"""

from __future__ import annotations

from ._http import Route, route
from ._routes_annotations import (
    h_annotation_create,
    h_annotation_delete,
    h_annotation_get,
    h_annotation_list,
    h_annotation_update,
)
from ._routes_images import (
    h_abstract_image_download,
    h_annotation_crop,
    h_any_annotation_crop,
    h_image_crop,
    h_image_download,
    h_image_get,
    h_image_thumb,
    h_image_window,
    h_project_images,
)
from ._routes_meta import (
    h_annotation_property_keys,
    h_attached_file_create,
    h_attached_file_download,
    h_attached_file_get,
    h_image_property_keys,
    h_property_by_key,
    h_property_create,
    h_property_delete,
    h_property_get,
    h_property_list,
    h_property_update,
)
from ._routes_projects import (
    h_ontology_create,
    h_ontology_get,
    h_ontology_list,
    h_ontology_terms,
    h_project_add_manager,
    h_project_add_member,
    h_project_create,
    h_project_delete,
    h_project_get,
    h_project_list,
    h_project_members,
    h_project_terms,
    h_project_update,
    h_term_create,
    h_term_delete,
    h_term_get,
    h_term_list,
    h_term_update,
    h_user_project_list,
)
from ._routes_uploads import h_pims_upload, h_storage_list, h_uploaded_file_get
from ._routes_users import IAM_TOKEN_PATH, h_current_user, h_iam_token, h_ping, h_user, h_user_list

SPRING: frozenset[str] = frozenset({"2026", "2025"})
NOT_2026: frozenset[str] = frozenset({"2025", "legacy"})
ONLY_2026: frozenset[str] = frozenset({"2026"})
_NOT_LEGACY = ("2026", "2025")


ROUTES: list[Route] = [
    route("POST", IAM_TOKEN_PATH, h_iam_token, generations=SPRING, public=True),
    route("GET", "/server/ping", h_ping, public=True),
    route("POST", "/server/ping", h_ping, generations=NOT_2026, public=True),
    route("GET", "/server/ping.json", h_ping, generations=NOT_2026, public=True),
    route("POST", "/server/ping.json", h_ping, generations=NOT_2026, public=True),
    route("GET", "/api/user/current.json", h_current_user),
    route("GET", "/api/user/{id}.json", h_user),
    route("GET", "/api/project.json", h_project_list),
    route("POST", "/api/project.json", h_project_create),
    route("GET", "/api/user/{id}/project.json", h_user_project_list),
    route("GET", "/api/project/{id}.json", h_project_get),
    route("PUT", "/api/project/{id}.json", h_project_update),
    route("DELETE", "/api/project/{id}.json", h_project_delete),
    route("GET", "/api/ontology.json", h_ontology_list),
    route("GET", "/api/ontology/{id}.json", h_ontology_get),
    route("GET", "/api/ontology/{id}/term.json", h_ontology_terms),
    route("GET", "/api/project/{id}/term.json", h_project_terms),
    route("GET", "/api/term.json", h_term_list, generations=NOT_2026),
    route("POST", "/api/term.json", h_term_create),
    route("GET", "/api/term/{id}.json", h_term_get),
    route("PUT", "/api/term/{id}.json", h_term_update),
    route("DELETE", "/api/term/{id}.json", h_term_delete),
    route("GET", "/api/imageinstance/{id}.json", h_image_get),
    route("GET", "/api/project/{id}/imageinstance.json", h_project_images),
    route("GET", "/api/annotation.json", h_annotation_list),
    route("POST", "/api/annotation.json", h_annotation_create),
    route("GET", "/api/annotation/search.json", h_annotation_list),
    route("POST", "/api/annotation/search.json", h_annotation_list),
    route("GET", "/api/annotation/{id}.json", h_annotation_get),
    route("PUT", "/api/annotation/{id}.json", h_annotation_update),
    route("DELETE", "/api/annotation/{id}.json", h_annotation_delete),
    route("POST", "/api/attachedfile.json", h_attached_file_create),
    route("GET", "/api/attachedfile/{id}.json", h_attached_file_get),
    route("GET", "/api/attachedfile/{id}/download", h_attached_file_download),
    # permitAll at filter level on 2025/2026 (the user comes from the query token); signed on legacy.
    route("GET", "/api/imageinstance/{id}/download", h_image_download, generations=_NOT_LEGACY, public=True),
    route("GET", "/api/imageinstance/{id}/download", h_image_download, generations=("legacy",)),
    route("GET", "/api/abstractimage/{id}/download", h_abstract_image_download, generations=_NOT_LEGACY, public=True),
    route("GET", "/api/abstractimage/{id}/download", h_abstract_image_download, generations=("legacy",)),
    route("GET", "/api/imageinstance/{id}/preview.{format:str}", h_image_thumb, generations=_NOT_LEGACY, public=True),
    route("GET", "/api/imageinstance/{id}/preview.{format:str}", h_image_thumb, generations=("legacy",)),
    route("GET", "/api/imageinstance/{id}/window-{x}-{y}-{w}-{h}.{format:str}", h_image_window),
    route("GET", "/api/imageinstance/{id}/crop.{format:str}", h_image_crop),
    route("GET", "/api/imageinstance/{id}/thumb.{format:str}", h_image_thumb, generations=_NOT_LEGACY, public=True),
    route("GET", "/api/imageinstance/{id}/thumb.{format:str}", h_image_thumb, generations=("legacy",)),
    route("GET", "/api/userannotation/{id}/crop.{format:str}", h_annotation_crop, generations=("2025",), public=True),
    route("GET", "/api/userannotation/{id}/crop.{format:str}", h_annotation_crop, generations=("2026", "legacy")),
]


# ---------------------------------------------------------------------------
# Routes the task examples need (examples/): ontology creation, users and project members,
# annotation crops, storages, and uploads to the image server with their uploaded files.
# ---------------------------------------------------------------------------

ROUTES.extend([
    route("POST", "/api/ontology.json", h_ontology_create),
    route("GET", "/api/user.json", h_user_list),
    route("GET", "/api/project/{id}/user.json", h_project_members),
    route("POST", "/api/project/{project}/user/{user}.json", h_project_add_member),
    route("POST", "/api/project/{project}/user/{user}/admin.json", h_project_add_manager),
    route("GET", "/api/annotation/{id}/crop.{format:str}", h_any_annotation_crop),
    route("GET", "/api/storage.json", h_storage_list),
    route("POST", "/upload", h_pims_upload, public=True),
    route("GET", "/api/uploadedfile/{id}.json", h_uploaded_file_get),
    route("GET", "/api/domain/{domainClassName:str}/{domainIdent}/property.json", h_property_list),
    route("POST", "/api/domain/{domainClassName:str}/{domainIdent}/property.json", h_property_create),
    route("GET", "/api/domain/{domainClassName:str}/{domainIdent}/property/{id}.json", h_property_get),
    route("PUT", "/api/domain/{domainClassName:str}/{domainIdent}/property/{id}.json", h_property_update),
    route("DELETE", "/api/domain/{domainClassName:str}/{domainIdent}/property/{id}.json", h_property_delete),
    route("GET", "/api/domain/{domainClassName:str}/{domainIdent}/key/{key:str}/property.json", h_property_by_key),
    route("POST", "/api/property.json", h_property_create),
    route("GET", "/api/annotation/property/key.json", h_annotation_property_keys),
    route("GET", "/api/imageinstance/property/key.json", h_image_property_keys),
    *[route("GET", f"/api/{name}/{{{name}}}/{tail}", handler)
      for name in ("project", "imageinstance", "annotation")
      for tail, handler in (("property.json", h_property_list), ("property/{id}.json", h_property_get),
                            ("key/{key:str}/property.json", h_property_by_key))],
])
