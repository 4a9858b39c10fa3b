"""cytomine-sdk: a Python SDK for the HTTP API of Cytomine, for every server generation in use.

    from cytomine_sdk import ApiClient, Configuration

    config = Configuration(host="https://cytomine.example.org", public_key="...", private_key="...")
    with ApiClient(config) as api_client:
        project = api_client.project_api.retrieve(42)

`cytomine_sdk.models` holds the typed models, `cytomine_sdk.exceptions` the errors. Names are
imported on first use, so importing this package stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ApiClient",
    "Configuration",
    "CytomineError",
    "IncompleteListError",
    "InsecureTransportWarning",
    "Page",
    "__version__",
    "exceptions",
    "models",
    "pages",
    "paginate",
    "update_fields",
]

if TYPE_CHECKING:
    from cytomine_sdk import exceptions, models
    from cytomine_sdk.client import ApiClient
    from cytomine_sdk.configuration import Configuration, InsecureTransportWarning
    from cytomine_sdk.exceptions import CytomineError
    from cytomine_sdk.pagination import IncompleteListError, Page, pages, paginate
    from cytomine_sdk.updates import update_fields

_LAZY = {
    "ApiClient": ("cytomine_sdk.client", "ApiClient"),
    "Configuration": ("cytomine_sdk.configuration", "Configuration"),
    "CytomineError": ("cytomine_sdk.exceptions", "CytomineError"),
    "InsecureTransportWarning": ("cytomine_sdk.configuration", "InsecureTransportWarning"),
    "exceptions": ("cytomine_sdk.exceptions", None),
    "models": ("cytomine_sdk.models", None),
    "IncompleteListError": ("cytomine_sdk.pagination", "IncompleteListError"),
    "Page": ("cytomine_sdk.pagination", "Page"),
    "pages": ("cytomine_sdk.pagination", "pages"),
    "paginate": ("cytomine_sdk.pagination", "paginate"),
    "update_fields": ("cytomine_sdk.updates", "update_fields"),
}


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'cytomine_sdk' has no attribute {name!r}") from None
    module = import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
