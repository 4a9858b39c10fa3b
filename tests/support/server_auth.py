"""The servers' signature check, now ``cytomine_sdk.testing._auth`` (the testing kit's oracle).

Kept as a re-export for the tests and benchmarks importing ``tests.support.server_auth``; the
module still imports nothing from the SDK's own signer (see its docstring).
"""

from __future__ import annotations

from cytomine_sdk.testing._auth import (
    GENERATIONS,
    authenticate,
    bearer_subject,
    candidate_content_types,
    canonical_string,
    normalise_headers,
    parse_cytomine_authorization,
    sign,
    split_target,
)

__all__ = [
    "GENERATIONS",
    "authenticate",
    "bearer_subject",
    "candidate_content_types",
    "canonical_string",
    "normalise_headers",
    "parse_cytomine_authorization",
    "sign",
    "split_target",
]
