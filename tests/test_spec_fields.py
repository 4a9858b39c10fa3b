"""Every JSON field of every domain of fields.tsv has a property in the domain's schema."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ROOT / "spec" / "inventory" / "fields.tsv"
# fields.tsv domain -> schema name, where they differ (reserved words, merged generations...)
SCHEMA_OF = {
    "Annotation (layer)": "LayerAnnotation",
    "AnnotationDomain": "GenericAnnotation",
    "BulkAddResult": "BulkResult",
    "Configuration": "ConfigurationEntry",
    "HttpCommandResponse": "CommandEnvelope",
    "Property": "PropertyEntry",
    "UploadResponse(PIMS)": "UploadResponse",
    "User (grails)": "User",
}
# Fields typed per domain, in `<Domain>Collection` / `<Domain>Command`: the list of a page, the
# object of a command (under its class key, or `data` in 2026).
DYNAMIC = {
    ("CollectionEnvelope", "collection"),
    ("CommandEnvelope", "<domainname lowercase>"),
    ("HttpCommandResponse", "data"),
}


def _schemas() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for file in sorted((ROOT / "spec").rglob("*.yaml")):
        doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        found.update(((doc.get("components") or {}).get("schemas")) or {})
    return found


SCHEMAS = _schemas()


def _properties(schema: dict[str, Any]) -> set[str]:
    names = set((schema.get("properties") or {}).keys())
    for part in schema.get("allOf") or []:
        ref = part.get("$ref", "")
        names |= _properties(SCHEMAS.get(ref.rsplit("/", 1)[-1], {}) if ref else part)
    return names


def _domains() -> dict[str, set[str]]:
    domains: dict[str, set[str]] = {}
    with open(FIELDS, encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if "client-only" in row["json_type"] or "client-side only" in row["json_type"]:
                continue
            if (row["domain"], row["field"]) not in DYNAMIC:
                domains.setdefault(row["domain"], set()).add(row["field"])
    return domains


DOMAINS = _domains()


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_domain_schema_has_every_field(domain: str) -> None:
    name = SCHEMA_OF.get(domain, domain)
    assert name in SCHEMAS, f"no schema {name} for domain {domain}"
    missing = DOMAINS[domain] - _properties(SCHEMAS[name])
    assert missing == set()
