# flake8: noqa

__all__ = [
    "AnnotationApi",
    "AttachedFileApi",
    "ImageInstanceApi",
    "OntologyApi",
    "ProjectApi",
    "ProjectCommandApi",
    "ServerApi",
    "TermApi",
    "UserApi",
]

import typing as _typing

if _typing.TYPE_CHECKING:
    # import apis into api package
    from cytomine_sdk_gen.api.annotation_api import AnnotationApi
    from cytomine_sdk_gen.api.attached_file_api import AttachedFileApi
    from cytomine_sdk_gen.api.image_instance_api import ImageInstanceApi
    from cytomine_sdk_gen.api.ontology_api import OntologyApi
    from cytomine_sdk_gen.api.project_api import ProjectApi
    from cytomine_sdk_gen.api.project_command_api import ProjectCommandApi
    from cytomine_sdk_gen.api.server_api import ServerApi
    from cytomine_sdk_gen.api.term_api import TermApi
    from cytomine_sdk_gen.api.user_api import UserApi
    
else:
    from importlib import import_module

    _exports = {
        "AnnotationApi": ".annotation_api",
        "AttachedFileApi": ".attached_file_api",
        "ImageInstanceApi": ".image_instance_api",
        "OntologyApi": ".ontology_api",
        "ProjectApi": ".project_api",
        "ProjectCommandApi": ".project_command_api",
        "ServerApi": ".server_api",
        "TermApi": ".term_api",
        "UserApi": ".user_api",
    }

    def __getattr__(name: str) -> object:
        if (module_name := _exports.get(name)) is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(module_name, __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(globals().keys() | _exports.keys())
