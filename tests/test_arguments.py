"""The argparse helper: the official client's option names, and command line > env > profile."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cytomine_sdk import Configuration
from cytomine_sdk.arguments import CONNECTION_DESTS, add_arguments
from cytomine_sdk.profiles import save_profile

PRIVATE = "PRIVATE-cli-s3cret"
TOKEN = "TOKEN-cli-s3cret"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No CYTOMINE_* variable and no real profiles file reach the tests."""
    for name in list(os.environ):
        if name.startswith("CYTOMINE_"):
            monkeypatch.delenv(name)
    path = tmp_path / "cytomine" / "config.ini"
    monkeypatch.setenv("CYTOMINE_CONFIG", str(path))
    return path


@pytest.fixture(autouse=True)
def sdk_logger_level() -> Iterator[logging.Logger]:
    logger = logging.getLogger("cytomine_sdk")
    level = logger.level
    yield logger
    logger.setLevel(level)


def parse(*argv: str, required: bool = False) -> argparse.Namespace:
    return add_arguments(argparse.ArgumentParser(), required=required).parse_args(list(argv))


def from_argv(*argv: str, **overrides: object) -> Configuration:
    return Configuration.from_args(parse(*argv), **overrides)


@pytest.mark.parametrize(
    ("option", "dest", "value", "parsed"),
    [
        ("--host", "host", "h.example.org", "h.example.org"),
        ("--cytomine_host", "host", "h.example.org", "h.example.org"),
        ("--public_key", "public_key", "pk", "pk"),
        ("--publicKey", "public_key", "pk", "pk"),
        ("--cytomine_public_key", "public_key", "pk", "pk"),
        ("--private_key", "private_key", PRIVATE, PRIVATE),
        ("--privateKey", "private_key", PRIVATE, PRIVATE),
        ("--cytomine_private_key", "private_key", PRIVATE, PRIVATE),
        ("--token", "token", TOKEN, TOKEN),
        ("--profile", "profile", "lab", "lab"),
        ("--signature", "signature", "legacy", "legacy"),
        ("--base_path", "base_path", "/api/", "/api/"),
        ("--basePath", "base_path", "/api/", "/api/"),
        ("--cytomine_base_path", "base_path", "/api/", "/api/"),
        ("--verbose", "verbose", "10", 10),
        ("--cytomine_verbose", "verbose", "warning", 30),
        ("--log_level", "log_level", "DEBUG", "DEBUG"),
        ("--cytomine_log_level", "log_level", "error", "ERROR"),
    ],
)
def test_every_spelling_fills_its_dest(option: str, dest: str, value: str, parsed: object) -> None:
    namespace = parse(option, value)
    assert getattr(namespace, dest) == parsed
    assert all(getattr(namespace, other) is None for other in CONNECTION_DESTS if other != dest)


def test_options_form_one_group_and_keep_short_options_free() -> None:
    parser = add_arguments(argparse.ArgumentParser())
    assert "Cytomine connection" in parser.format_help()
    parser.add_argument("-l", "--label")  # the official client's -l is not taken
    assert parser.parse_args(["-l", "x", "--log_level", "info"]).log_level == "INFO"


def test_required_makes_host_mandatory(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("--token", TOKEN, required=True)
    assert "--host" in capsys.readouterr().err
    assert parse("--host", "h", required=True).host == "h"


@pytest.mark.parametrize("bad", [["--signature", "2024"], ["--log_level", "LOUD"], ["--verbose", "very"]])
def test_bad_choices_are_rejected_by_argparse(bad: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse(*bad)


@pytest.mark.parametrize(
    "argv",
    [
        ["--host", "cytomine.example.org", "--public_key", "pk", "--private_key", PRIVATE],
        ["--cytomine_host", "cytomine.example.org", "--publicKey", "pk", "--privateKey", PRIVATE],
        ["--cytomine_host", "cytomine.example.org", "--cytomine_public_key", "pk", "--cytomine_private_key", PRIVATE],
    ],
)
def test_official_client_command_lines(argv: list[str]) -> None:
    config = from_argv(*argv, "--cytomine_base_path", "/api/", "--cytomine_verbose", "20")
    # The official client took the host without protocol: https:// is assumed.
    assert (config.host, config.public_key, config.private_key) == ("https://cytomine.example.org", "pk", PRIVATE)


def test_parse_known_args_output_is_accepted() -> None:
    parser = add_arguments(argparse.ArgumentParser())
    known = parser.parse_known_args(["--host", "h.example.org", "--token", TOKEN, "--software_id", "7"])
    assert known[1] == ["--software_id", "7"]
    assert Configuration.from_args(known).token == TOKEN
    assert Configuration.from_args(known[0]).host == "https://h.example.org"


def test_namespaces_from_other_parsers_work() -> None:
    config = Configuration.from_args(argparse.Namespace(host="h.example.org", project=3))
    assert (config.host, config.public_key) == ("https://h.example.org", None)


@pytest.fixture
def profiles(isolated: Path) -> Path:
    save_profile("default", host="https://default.example.org", public_key="pk-default", private_key=PRIVATE)
    save_profile("lab", host="https://lab.example.org", public_key="pk-lab", private_key=PRIVATE,
                 signature="2025", read_timeout=42)
    save_profile("env", host="https://envprofile.example.org", token=TOKEN)
    return isolated


@pytest.mark.parametrize("host_option", ["--host", "--cytomine_host"])
@pytest.mark.parametrize("key_options", [("--public_key", "--private_key"), ("--publicKey", "--privateKey"),
                                         ("--cytomine_public_key", "--cytomine_private_key")])
def test_command_line_beats_environment_beats_profile(
    profiles: Path, monkeypatch: pytest.MonkeyPatch, host_option: str, key_options: tuple[str, str]
) -> None:
    monkeypatch.setenv("CYTOMINE_PROFILE", "lab")
    assert (from_argv().host, from_argv().signature, from_argv().read_timeout) == (
        "https://lab.example.org", "2025", 42.0)
    monkeypatch.setenv("CYTOMINE_HOST", "env.example.org")
    monkeypatch.setenv("CYTOMINE_SIGNATURE", "2026")
    config = from_argv()
    assert (config.host, config.public_key, config.signature, config.read_timeout) == (
        "https://env.example.org", "pk-lab", "2026", 42.0)
    public_option, private_option = key_options
    config = from_argv(host_option, "cli.example.org", public_option, "pk-cli", private_option, "sk-cli",
                       "--signature", "legacy")
    assert (config.host, config.public_key, config.private_key, config.signature) == (
        "https://cli.example.org", "pk-cli", "sk-cli", "legacy")
    config = from_argv(host_option, "cli.example.org", signature="2025", read_timeout=3)
    assert (config.host, config.signature, config.read_timeout) == ("https://cli.example.org", "2025", 3.0)


def test_profile_option_beats_cytomine_profile(profiles: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYTOMINE_PROFILE", "lab")
    config = from_argv("--profile", "env")
    assert (config.host, config.token, config.public_key) == ("https://envprofile.example.org", TOKEN, None)


def test_token_on_the_command_line_replaces_profile_keys(profiles: Path) -> None:
    config = from_argv("--profile", "lab", "--token", TOKEN)
    assert (config.host, config.token, config.public_key, config.private_key) == (
        "https://lab.example.org", TOKEN, None, None)
    config = from_argv("--profile", "env", "--public_key", "p", "--private_key", "s")
    assert (config.token, config.public_key) == (None, "p")


def test_default_profile_only_when_no_host_is_given(profiles: Path) -> None:
    assert from_argv().public_key == "pk-default"
    config = from_argv("--host", "elsewhere.example.org")
    assert (config.host, config.public_key) == ("https://elsewhere.example.org", None)


def test_no_host_anywhere(isolated: Path) -> None:
    with pytest.raises(ValueError, match=r"^host: pass --host"):
        from_argv("--public_key", "p", "--private_key", PRIVATE)


@pytest.mark.parametrize("base_path", ["/api/", "/api", "api", "api/", " /api/ "])
def test_the_legacy_api_base_path_is_ignored(base_path: str) -> None:
    config = from_argv("--host", "h.example.org", "--base_path", base_path)
    assert config.host == "https://h.example.org"


@pytest.mark.parametrize(
    ("base_path", "hint"),
    [("/cytomine/api/", "--host https://cytomine.example.org/cytomine"), ("/core", "/core"), ("/", None), ("", None)],
)
def test_other_base_paths_point_to_host(base_path: str, hint: str | None) -> None:
    with pytest.raises(ValueError, match=r"^base_path: ") as caught:
        from_argv("--host", "h.example.org", "--basePath", base_path)
    assert "--host" in str(caught.value)
    if hint:
        assert hint in str(caught.value)


@pytest.mark.parametrize(
    ("argv", "level"),
    [
        (["--log_level", "DEBUG"], logging.DEBUG),
        (["--cytomine_log_level", "warning"], logging.WARNING),
        (["--verbose", "40"], logging.ERROR),
        (["--cytomine_verbose", "info"], logging.INFO),
        (["--verbose", "10", "--log_level", "ERROR"], logging.ERROR),  # --log_level wins, as in the official client
    ],
)
def test_log_level_sets_only_the_sdk_logger(argv: list[str], level: int, sdk_logger_level: logging.Logger) -> None:
    root = logging.getLogger()
    root_state = (root.level, list(root.handlers))
    from_argv("--host", "h.example.org", *argv)
    assert sdk_logger_level.level == level
    assert (root.level, list(root.handlers)) == root_state  # no basicConfig
    assert sdk_logger_level.handlers == []


def test_log_level_untouched_when_not_given(sdk_logger_level: logging.Logger) -> None:
    sdk_logger_level.setLevel(logging.CRITICAL)
    from_argv("--host", "h.example.org")
    assert sdk_logger_level.level == logging.CRITICAL


def test_errors_never_show_secrets(profiles: Path) -> None:
    cases: list[list[str]] = [
        ["--host", "h.example.org", "--private_key", PRIVATE],
        ["--host", "h.example.org", "--public_key", "p", "--private_key", PRIVATE, "--base_path", "/x/"],
        ["--host", "ftp://h.example.org", "--token", TOKEN],
        ["--host", "h.example.org", "--profile", "missing", "--token", TOKEN],
    ]
    for argv in cases:
        with pytest.raises(ValueError) as caught:
            from_argv(*argv)
        assert PRIVATE not in str(caught.value) and TOKEN not in str(caught.value)
