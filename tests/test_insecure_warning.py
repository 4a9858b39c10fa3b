"""Credentials over plain http to a remote host warn; https, loopback and anonymous use do not."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from cytomine_sdk import Configuration, InsecureTransportWarning

PRIVATE = "PRIVATE-warn-s3cret"
TOKEN = "TOKEN-warn-s3cret"
KEYS = {"public_key": "PUBLIC-warn", "private_key": PRIVATE}


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CYTOMINE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CYTOMINE_CONFIG", str(tmp_path / "config.ini"))


def test_is_a_user_warning_exported_by_the_package() -> None:
    import cytomine_sdk

    assert issubclass(InsecureTransportWarning, UserWarning)
    assert "InsecureTransportWarning" in cytomine_sdk.__all__


@pytest.mark.parametrize("credentials", [KEYS, {"token": TOKEN}], ids=["keys", "token"])
@pytest.mark.parametrize("host", ["http://example.org", "http://cytomine.example.org:8080/core",
                                  "http://10.0.0.5", "http://[2001:db8::1]", "http://localhost-core"])
def test_credentials_over_plain_http_warn(host: str, credentials: dict[str, str]) -> None:
    with pytest.warns(InsecureTransportWarning) as record:
        Configuration(host, **credentials)
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith("host: ") and "https://" in message
    hostname = host.split("://")[1].split(":8080")[0].split("/")[0].strip("[]")
    assert hostname in message
    assert PRIVATE not in message and TOKEN not in message
    assert record[0].filename == __file__  # points at the caller, not at the SDK


def test_the_warning_points_at_the_caller_of_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYTOMINE_HOST", "http://example.org")
    monkeypatch.setenv("CYTOMINE_TOKEN", TOKEN)
    with pytest.warns(InsecureTransportWarning, match="example.org") as record:
        Configuration.from_env()
    assert record[0].filename == __file__


def test_warning_can_be_made_an_error() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", InsecureTransportWarning)
        with pytest.raises(InsecureTransportWarning):
            Configuration("http://example.org", token=TOKEN)


@pytest.mark.parametrize(
    ("host", "credentials"),
    [
        ("https://example.org", KEYS),
        ("https://example.org", {"token": TOKEN}),
        ("example.org", KEYS),  # no scheme: https
        ("http://127.0.0.1:8080", KEYS),
        ("http://127.8.9.10", {"token": TOKEN}),
        ("http://[::1]:8080", KEYS),
        ("http://localhost", KEYS),
        ("http://LOCALHOST:8080/core", {"token": TOKEN}),
        ("http://cytomine.localhost", KEYS),
        ("http://example.org", {}),  # anonymous: nothing to leak
    ],
)
def test_no_warning(host: str, credentials: dict[str, str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Configuration(host, **credentials)


# --- the image server (pims_url) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "why"),
    [(KEYS, "replay"), ({"token": TOKEN}, "token")],
    ids=["keys", "token"],
)
def test_credentials_with_a_plain_http_pims_url_warn(credentials: dict[str, str], why: str) -> None:
    with pytest.warns(InsecureTransportWarning) as record:
        Configuration("https://core.example.org", pims_url="http://pims.example.org:5000", **credentials)
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith("pims_url: pims.example.org ") and "https://" in message
    assert why in message
    assert PRIVATE not in message and TOKEN not in message
    assert record[0].filename == __file__


def test_the_keys_warning_says_signatures_can_be_replayed() -> None:
    with pytest.warns(InsecureTransportWarning) as record:
        Configuration("https://core.example.org", pims_url="http://pims.example.org", **KEYS)
    message = str(record[0].message)
    assert "upload" in message and "freshness" in message and "replay" in message


def test_plain_http_host_and_pims_url_warn_once_each() -> None:
    with pytest.warns(InsecureTransportWarning) as record:
        Configuration("http://core.example.org", pims_url="http://pims.example.org", token=TOKEN)
    assert sorted(str(w.message).split(":")[0] for w in record) == ["host", "pims_url"]


def test_pims_url_set_by_replace_from_env_and_from_profile_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    from cytomine_sdk.profiles import save_profile

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = Configuration("https://core.example.org", **KEYS)
        # Saving a profile sends nothing: no warning there.
        save_profile("lab", host="https://core.example.org", pims_url="http://pims.example.org", token=TOKEN)
    with pytest.warns(InsecureTransportWarning, match="^pims_url: pims.example.org") as record:
        config.replace(pims_url="http://pims.example.org")
    assert record[0].filename == __file__
    with pytest.warns(InsecureTransportWarning, match="^pims_url: pims.example.org") as record:
        Configuration.from_profile("lab")
    assert record[0].filename == __file__
    monkeypatch.setenv("CYTOMINE_HOST", "https://core.example.org")
    monkeypatch.setenv("CYTOMINE_TOKEN", TOKEN)
    with pytest.warns(InsecureTransportWarning, match="^pims_url: pims.example.org") as record:
        Configuration.from_env(pims_url="http://pims.example.org")
    assert record[0].filename == __file__


@pytest.mark.parametrize(
    ("pims_url", "credentials"),
    [
        ("https://pims.example.org", KEYS),
        ("http://127.0.0.1:5000", KEYS),
        ("http://localhost:5000", {"token": TOKEN}),
        ("http://[::1]", KEYS),
        ("http://pims.example.org", {}),  # anonymous: nothing to leak
    ],
)
def test_no_pims_url_warning(pims_url: str, credentials: dict[str, str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Configuration("https://core.example.org", pims_url=pims_url, **credentials)
