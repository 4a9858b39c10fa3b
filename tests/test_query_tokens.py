"""Original downloads and thumbnails: the user's bearer token goes in the query by itself, no
dummy argument; a client with API keys only gets a typed error naming the fix (issue 13)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.downloads import download
from cytomine_sdk.exceptions import BearerTokenRequiredError
from tests.support.stub import CytomineStub

CLAIMS = base64.urlsafe_b64encode(json.dumps({"preferred_username": "demo"}).encode()).decode().rstrip("=")
JWT = f"eyJhbGciOiJSUzI1NiJ9.{CLAIMS}.c2lnbmF0dXJl"


def keys_client(stub: CytomineStub) -> ApiClient:
    return ApiClient(Configuration(stub.host, public_key=stub.public_key, private_key=stub.private_key))


@pytest.mark.parametrize("generation", ["2026", "2025"])
def test_a_client_with_a_token_fills_the_query_token(generation: str, tmp_path: Path) -> None:
    with CytomineStub(generation, token=JWT) as stub:
        api = ApiClient(Configuration(stub.host, token=JWT))
        assert len(api.image_instance_api.download(400)) > 16000
        assert api.image_instance_api.download_thumb(400, "png").startswith(b"\x89PNG")
        assert api.user_annotation_api.download_crop(5, "png").startswith(b"\x89PNG")
        path = download(api.abstract_image_api.download, 7, dest=tmp_path)
        assert path.name == "slide-7.svs" and path.stat().st_size > 16000
        sent = stub.requests[-1]
        assert JWT in sent.raw_target and "authorization=" in sent.raw_target and "Authorization=" in sent.raw_target


@pytest.mark.parametrize("generation", ["2026", "2025"])
def test_api_keys_alone_get_an_error_naming_the_fix(generation: str) -> None:
    with CytomineStub(generation) as stub:
        api = keys_client(stub)
        images = api.image_instance_api
        calls = (lambda: images.download(400), lambda: images.download_thumb(400, "png"))
        for call in calls:
            with pytest.raises(BearerTokenRequiredError, match=r"username=\.\.\., password=\.\.\.\).*token=") as info:
                call()
            assert "never forges" in str(info.value)
            # what a script's user sets: the environment variables and the command-line options
            assert all(name in str(info.value) for name in ("CYTOMINE_TOKEN", "--token", "CYTOMINE_USERNAME"))
        api.whoami()  # the generation known: refused before anything is sent
        before = len(stub.requests)
        with pytest.raises(BearerTokenRequiredError, match=f"{generation} servers read the user"):
            api.image_instance_api.download(400)
        assert len(stub.requests) == before


def test_legacy_servers_take_api_keys_alone_and_get_no_query_token(tmp_path: Path) -> None:
    with CytomineStub("legacy") as stub:
        api = keys_client(stub)
        assert len(api.image_instance_api.download(400)) > 16000
        assert "uthorization" not in stub.requests[-1].raw_target
        assert download(api.image_instance_api.download, 400, dest=tmp_path).stat().st_size > 16000


def test_an_interrupted_download_resumes_with_the_token(tmp_path: Path) -> None:
    """A resumed download asks again through the operation: the Range request carries the token."""
    with CytomineStub("2026", token=JWT) as stub:
        api = ApiClient(Configuration(stub.host, token=JWT))
        whole = api.abstract_image_api.download(7)
        part = tmp_path / ".slide-7.svs.part"
        part.write_bytes(whole[:5000])
        (tmp_path / ".slide-7.svs.part.meta").write_text(json.dumps(
            {"total": len(whole), "etag": '"slide-7"', "modified": None, "source": _source_of(stub)}))
        path = download(api.abstract_image_api.download, 7, dest=tmp_path / "slide-7.svs")
        assert path.read_bytes() == whole
        resumed = stub.requests[-1]
        assert resumed.headers.get("range") == "bytes=5000-" and JWT in resumed.raw_target


def _source_of(stub: CytomineStub) -> str:
    import hashlib

    return hashlib.sha256(b"/api/abstractimage/7/download").hexdigest()[:16]


def test_a_token_given_by_the_caller_is_sent_as_is() -> None:
    with CytomineStub("2026", token=JWT) as stub:
        api = keys_client(stub)
        assert len(api.image_instance_api.download(400, authorization=JWT)) > 16000


@pytest.mark.parametrize("generation", ["2026", "2025"])
def test_a_username_and_password_are_all_a_download_needs(generation: str, tmp_path: Path) -> None:
    from tests.support.stub import DEFAULT_PASSWORD, DEFAULT_USERNAME

    with CytomineStub(generation, token_lifespan=60) as stub:
        api = ApiClient(Configuration(stub.host, username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD))
        path = download(api.image_instance_api.download, 400, dest=tmp_path)
        assert path.stat().st_size > 16000
        assert api.image_instance_api.download_thumb(400, "png").startswith(b"\x89PNG")
        assert api.user_annotation_api.download_crop(5, "png").startswith(b"\x89PNG")
        assert len(stub.token_requests()) == 1  # one login for all three
