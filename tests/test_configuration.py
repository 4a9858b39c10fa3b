"""Configuration: strict with arguments, secrets never shown."""

from __future__ import annotations

import pytest

from cytomine_sdk import ApiClient, Configuration


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"host": ""}, "host"),
        ({"host": "ftp://example.org"}, "host"),
        ({"host": "https://example.org/?x=1"}, "host"),
        ({"host": "h", "public_key": "p"}, "private_key"),
        ({"host": "h", "private_key": "s"}, "public_key"),
        ({"host": "h", "public_key": "", "private_key": "s"}, "public_key"),
        ({"host": "h", "public_key": "p", "private_key": "s", "token": "t"}, "token"),
        ({"host": "h", "signature": "2024"}, "signature"),
        ({"host": "h", "read_timeout": 0}, "read_timeout"),
        ({"host": "h", "connect_timeout": "5"}, "connect_timeout"),
        ({"host": "h", "pool_maxsize": 0}, "pool_maxsize"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        Configuration(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("cytomine.example.org", "https://cytomine.example.org"),
        ("https://cytomine.example.org/", "https://cytomine.example.org"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("https://example.org/cytomine//", "https://example.org/cytomine"),
    ],
)
def test_host_is_normalised(given: str, expected: str) -> None:
    assert Configuration(given).host == expected


def test_secrets_are_not_in_reprs() -> None:
    config = Configuration("https://h", public_key="PUBLIC-123", private_key="PRIVATE-456")
    client = ApiClient(config)
    for text in (repr(config), str(config), repr(client), repr(client._signer)):
        assert "PRIVATE-456" not in text
    assert "PUBLIC-123" in repr(config)
    token_config = Configuration("https://h", token="TOKEN-789")
    assert "TOKEN-789" not in repr(token_config) + repr(ApiClient(token_config))


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYTOMINE_HOST", "cytomine.example.org")
    monkeypatch.setenv("CYTOMINE_PUBLIC_KEY", "pub")
    monkeypatch.setenv("CYTOMINE_PRIVATE_KEY", "priv")
    monkeypatch.delenv("CYTOMINE_TOKEN", raising=False)
    monkeypatch.setenv("CYTOMINE_SIGNATURE", "legacy")
    config = Configuration.from_env()
    assert (config.host, config.public_key, config.private_key, config.signature) == (
        "https://cytomine.example.org", "pub", "priv", "legacy")
    assert Configuration.from_env(signature="2026").signature == "2026"
    monkeypatch.delenv("CYTOMINE_HOST")
    with pytest.raises(ValueError, match="CYTOMINE_HOST"):
        Configuration.from_env()


def test_client_requires_a_configuration() -> None:
    with pytest.raises(TypeError, match="configuration"):
        ApiClient("https://h")  # type: ignore[arg-type]


PASSWORD = "URL-PASSWORD-s3cret"


def test_passwords_in_urls_are_not_in_reprs() -> None:
    config = Configuration(
        f"http://admin:{PASSWORD}@127.0.0.1:8080/core",
        token="TOKEN-789",
        proxy=f"http://proxyuser:{PASSWORD}x@proxy.example.org:3128",
        pims_url=f"https://pims:{PASSWORD}y@pims.example.org",
    )
    for text in (repr(config), str(config), repr(ApiClient(config))):
        assert PASSWORD not in text and "TOKEN-789" not in text
        assert "admin:<redacted>@127.0.0.1:8080/core" in text
        assert "proxyuser:<redacted>@proxy.example.org:3128" in text
        assert "pims:<redacted>@pims.example.org" in text
    assert config.host == f"http://admin:{PASSWORD}@127.0.0.1:8080/core"  # still usable as given


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"host": f"ftp://user:{PASSWORD}@example.org"}, "host"),
        ({"host": f"https://example.org/?authorization={PASSWORD}"}, "host"),
        ({"host": "https://example.org", "pims_url": f"ftp://user:{PASSWORD}@pims.example.org"}, "pims_url"),
        ({"host": "https://example.org", "pims_url": f"https://pims.example.org/?token={PASSWORD}"}, "pims_url"),
    ],
)
def test_bad_urls_are_refused_without_their_secrets(kwargs: dict[str, str], argument: str) -> None:
    with pytest.raises(ValueError) as caught:
        Configuration(**kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith(f"{argument}: ") and PASSWORD not in message
