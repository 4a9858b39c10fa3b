"""Profiles: a private INI file of named connections, read by from_profile, from_env and from_args."""

from __future__ import annotations

import os
import stat
import sys
import threading
import traceback
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pytest

from cytomine_sdk import Configuration
from cytomine_sdk.profiles import (
    ProfileError,
    ProfileNotFoundError,
    ProfilePermissionError,
    _default_config_path,
    config_path,
    list_profiles,
    load_profile,
    save_profile,
)

PRIVATE = "PRIVATE-s3cr%t-value"
TOKEN = "TOKEN-s3cr%t-value"
posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No CYTOMINE_* variable and no real profiles file reach the tests."""
    for name in list(os.environ):
        if name.startswith("CYTOMINE_"):
            monkeypatch.delenv(name)
    path = tmp_path / "home" / "cytomine" / "config.ini"
    monkeypatch.setenv("CYTOMINE_CONFIG", str(path))
    return path


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def assert_no_secret(text: str) -> None:
    assert PRIVATE not in text and TOKEN not in text


# --- file location -----------------------------------------------------------------------------


def test_config_path_follows_cytomine_config_then_xdg_then_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert config_path() == tmp_path / "home" / "cytomine" / "config.ini"
    monkeypatch.delenv("CYTOMINE_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "cytomine" / "config.ini"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")  # invalid per the XDG spec: ignored
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    if os.name == "posix":
        assert config_path() == tmp_path / "user" / ".config" / "cytomine" / "config.ini"


def test_windows_location_is_appdata() -> None:
    assert _default_config_path({"APPDATA": "/appdata"}, windows=True) == Path("/appdata/cytomine/config.ini")
    assert _default_config_path({"CYTOMINE_CONFIG": "/x.ini", "APPDATA": "/a"}, windows=True) == Path("/x.ini")


# --- save and load -----------------------------------------------------------------------------


def test_round_trip_types_and_private_modes(isolated: Path) -> None:
    settings: dict[str, object] = {
        "host": "cytomine.example.org",
        "public_key": "PUBLIC-1",
        "private_key": PRIVATE,
        "signature": "2025",
        "connect_timeout": 5,
        "read_timeout": 120.5,
        "verify_ssl": False,
        "ssl_ca_cert": "/etc/ssl/ca.pem",
        "proxy": "http://proxy:3128",
        "pool_maxsize": 4,
        "max_retries": 0,
        "retry_backoff": 0.25,
        "max_retry_wait": 30,
        "retry_non_idempotent": True,
    }
    old_umask = os.umask(0)  # modes must not depend on the caller's umask
    try:
        written = save_profile("default", **settings)
    finally:
        os.umask(old_umask)
    assert written == isolated.resolve()
    loaded = load_profile()
    assert loaded == {**settings, "host": "https://cytomine.example.org", "connect_timeout": 5.0,
                      "max_retry_wait": 30.0}
    assert type(loaded["pool_maxsize"]) is int and type(loaded["read_timeout"]) is float
    assert loaded["verify_ssl"] is False and loaded["retry_non_idempotent"] is True
    if os.name == "posix":
        assert stat.S_IMODE(isolated.stat().st_mode) == 0o600
        assert stat.S_IMODE(isolated.parent.stat().st_mode) == 0o700  # cytomine/
        assert stat.S_IMODE(isolated.parent.parent.stat().st_mode) == 0o700  # home/, also created
    assert [p.name for p in isolated.parent.iterdir()] == ["config.ini"]  # no temporary file left
    config = Configuration.from_profile()
    assert (config.host, config.private_key, config.read_timeout, config.verify_ssl) == (
        "https://cytomine.example.org", PRIVATE, 120.5, False)


def test_save_keeps_other_profiles_and_replaces_the_named_one(isolated: Path) -> None:
    save_profile("default", host="https://a.example.org", public_key="p", private_key=PRIVATE)
    save_profile("lab", host="https://lab.example.org", token=TOKEN, read_timeout=90)
    save_profile("other", host="https://o.example.org")
    save_profile("default", host="https://a.example.org", token=TOKEN)  # keys gone, not merged
    assert list_profiles() == ["default", "lab", "other"]  # position kept
    assert load_profile("default") == {"host": "https://a.example.org", "token": TOKEN}
    assert load_profile("lab") == {"host": "https://lab.example.org", "token": TOKEN, "read_timeout": 90.0}


def test_values_are_read_verbatim_and_booleans_as_configparser(isolated: Path) -> None:
    write(isolated, f"[default]\nhost = h.example.org\nPublic_Key = p\nprivate_key = {PRIVATE}\n"
                    "verify_ssl = off\nretry_non_idempotent = Yes\n; a comment\n")
    assert load_profile() == {"host": "h.example.org", "public_key": "p", "private_key": PRIVATE,
                              "verify_ssl": False, "retry_non_idempotent": True}


def test_default_section_is_an_ordinary_profile(isolated: Path) -> None:
    write(isolated, f"[DEFAULT]\ntoken = {TOKEN}\n\n[lab]\nhost = https://lab.example.org\n")
    assert list_profiles() == ["DEFAULT", "lab"]
    assert load_profile("lab") == {"host": "https://lab.example.org"}  # no token inherited


def test_list_profiles_of_a_missing_file_is_empty(isolated: Path) -> None:
    assert list_profiles() == []
    assert list_profiles(isolated.parent / "nope.ini") == []


def test_explicit_path_wins_over_the_environment(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.ini"
    save_profile("x", path=other, host="https://x.example.org")
    assert load_profile("x", other) == {"host": "https://x.example.org"}
    assert Configuration.from_profile("x", path=str(other)).host == "https://x.example.org"
    assert list_profiles() == []


# --- refusals and errors -----------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602, 0o666])
def test_a_file_others_can_read_or_write_is_refused_before_parsing(isolated: Path, mode: int) -> None:
    # Not even valid INI: the refusal must come first, and must not show the content.
    write(isolated, f"private_key = {PRIVATE}\n", mode)
    for call in (load_profile, list_profiles, lambda: save_profile("x", host="h"),
                 Configuration.from_profile, Configuration.from_env):
        with pytest.raises(ProfilePermissionError) as caught:
            call()
        assert isinstance(caught.value, PermissionError)
        message = str(caught.value)
        assert str(isolated) in message and f"chmod 600 {isolated}" in message
        assert_no_secret(message)
    assert isolated.read_text() == f"private_key = {PRIVATE}\n"  # save_profile did not rewrite it


@posix_only
@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_private_modes_are_accepted(isolated: Path, mode: int) -> None:
    write(isolated, "[default]\nhost = https://h.example.org\n", mode)
    assert load_profile() == {"host": "https://h.example.org"}


def test_unknown_key_names_file_profile_and_key(isolated: Path) -> None:
    write(isolated, f"[lab]\nhost = h\nprivate_key = {PRIVATE}\npublicKey = p\n")
    with pytest.raises(ProfileError) as caught:
        load_profile("lab")
    message = str(caught.value)
    assert message.startswith("publickey: unknown setting")
    assert "'lab'" in message and str(isolated) in message and "public_key" in message
    assert_no_secret(message)
    assert isinstance(caught.value, ValueError)


def test_missing_profile_lists_the_existing_ones(isolated: Path) -> None:
    write(isolated, "[default]\nhost = h\n\n[lab]\nhost = l\n")
    with pytest.raises(ProfileNotFoundError) as caught:
        Configuration.from_profile("work")
    message = str(caught.value)
    assert message.startswith("profile 'work'")
    assert str(isolated) in message and "'default', 'lab'" in message


def test_missing_file_names_the_file(isolated: Path) -> None:
    with pytest.raises(ProfileNotFoundError, match="profile 'default'") as caught:
        load_profile()
    assert str(isolated) in str(caught.value) and "does not exist" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"private_key = {PRIVATE}\n[default]\n", "line 1 comes before the first"),
        (f"[default]\nhost = h\n{PRIVATE}\n", "line(s) 3"),
        (f"[default]\nprivate_key = {PRIVATE}\nprivate_key = {PRIVATE}x\n", "'private_key' appears twice"),
        ("[default]\n[default]\n", "profile 'default' appears twice"),
        (f"[default]\nhost = h\n  private_key = {PRIVATE}\n", "host: the value continues on an indented line"),
        ("[default]\ntoken =\n", "token: empty value"),
        ("[default]\nread_timeout = soon\n", "read_timeout: expected a number"),
        ("[default]\npool_maxsize = 2.5\n", "pool_maxsize: expected an integer"),
        ("[default]\nverify_ssl = maybe\n", "verify_ssl: expected true or false"),
    ],
)
def test_bad_files_are_explained_without_their_secrets(isolated: Path, text: str, expected: str) -> None:
    write(isolated, text)
    with pytest.raises(ProfileError) as caught:
        load_profile()
    message = str(caught.value)
    assert expected in message and str(isolated) in message
    assert_no_secret(message)
    # Nor in the traceback a log handler would print (configparser's own error is not chained).
    assert_no_secret("".join(traceback.format_exception(caught.value)))


def _within(seconds: float, call: Callable[[], object]) -> BaseException | None:
    """What `call` raised (None if nothing), failing the test instead of hanging if it blocks."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # handed to the test
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        return TimeoutError(f"still blocked after {seconds} s")
    return outcome[0]


@posix_only
def test_a_fifo_as_the_profiles_file_is_refused_without_blocking(isolated: Path) -> None:
    isolated.parent.mkdir(parents=True)
    os.mkfifo(isolated, 0o600)
    try:
        for call in (load_profile, list_profiles, lambda: save_profile("x", host="h"),
                     Configuration.from_profile, Configuration.from_env):
            raised = _within(10, call)
            assert isinstance(raised, ProfileError), raised
            assert str(raised) == f"{isolated}: the profiles file is not a regular file but a FIFO (named pipe)"
    finally:
        # A regression blocks its thread in open(): a writer showing up and leaving releases it.
        with suppress(OSError):
            os.close(os.open(isolated, os.O_WRONLY | os.O_NONBLOCK))
    assert stat.S_ISFIFO(os.stat(isolated).st_mode)  # save_profile did not replace it


@posix_only
@pytest.mark.parametrize(("path", "kind"), [("/dev/null", "a character device"), (".", "a directory")])
def test_a_device_or_a_directory_as_the_profiles_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, kind: str
) -> None:
    target = tmp_path if path == "." else Path(path)
    monkeypatch.setenv("CYTOMINE_CONFIG", str(target))
    for call in (load_profile, list_profiles, Configuration.from_env):
        raised = _within(10, call)
        assert isinstance(raised, ProfileError), raised
        assert str(raised) == f"{target}: the profiles file is not a regular file but {kind}"


def test_invalid_profile_values_are_reported_by_configuration(isolated: Path) -> None:
    write(isolated, f"[default]\nhost = h\nprivate_key = {PRIVATE}\n")
    with pytest.raises(ValueError, match=r"^public_key") as caught:
        Configuration.from_profile()
    assert_no_secret(str(caught.value))


@pytest.mark.parametrize(
    ("name", "settings", "argument"),
    [
        ("default", {"hots": "h"}, "hots"),
        ("default", {"host": "ftp://h"}, "host"),
        ("default", {"private_key": PRIVATE}, "public_key"),
        ("default", {"public_key": "p", "private_key": PRIVATE, "token": TOKEN}, "token"),
        ("default", {"private_key": 42, "public_key": "p"}, "private_key"),
        ("default", {"token": f" {TOKEN}"}, "token"),
        ("default", {"token": f"{TOKEN}\n"}, "token"),
        ("default", {"verify_ssl": "no"}, "verify_ssl"),
        ("default", {"pool_maxsize": 2.5}, "pool_maxsize"),
        ("default", {"read_timeout": True}, "read_timeout"),
        ("default", {"read_timeout": -1}, "read_timeout"),
        ("default", {"signature": "2024"}, "signature"),
        ("default", {"proxy": ""}, "proxy"),
        ("[lab]", {}, "name"),
        ("", {}, "name"),
    ],
)
def test_save_checks_everything_before_writing(
    isolated: Path, name: str, settings: dict[str, object], argument: str
) -> None:
    with pytest.raises(ValueError, match=f"^{argument}") as caught:
        save_profile(name, **settings)
    assert_no_secret(str(caught.value))
    assert not isolated.exists()


def test_save_leaves_out_none(isolated: Path) -> None:
    save_profile("default", host="https://h.example.org", token=None, proxy=None)
    assert load_profile() == {"host": "https://h.example.org"}


@pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="symlinks")
def test_save_through_a_symlink_updates_its_target(tmp_path: Path) -> None:
    real = write(tmp_path / "dotfiles" / "cytomine.ini", "[old]\nhost = https://o.example.org\n")
    link = tmp_path / "link.ini"
    link.symlink_to(real)
    save_profile("new", path=link, host="https://n.example.org")
    assert link.is_symlink()
    assert list_profiles(real) == ["old", "new"]


# --- from_profile and from_env -----------------------------------------------------------------


@pytest.fixture
def two_profiles(isolated: Path) -> Path:
    save_profile("default", host="https://default.example.org", public_key="PUB-D", private_key=PRIVATE)
    save_profile("lab", host="https://lab.example.org", public_key="PUB-L", private_key=PRIVATE + "L",
                 signature="2025", read_timeout=99)
    return isolated


def test_from_profile_overrides(two_profiles: Path) -> None:
    config = Configuration.from_profile("lab", read_timeout=5, signature=None)
    assert (config.host, config.public_key, config.read_timeout, config.signature) == (
        "https://lab.example.org", "PUB-L", 5.0, "2025")
    by_token = Configuration.from_profile("lab", token=TOKEN)  # replaces the profile's keys
    assert (by_token.token, by_token.public_key, by_token.private_key) == (TOKEN, None, None)


def test_from_profile_without_host(isolated: Path) -> None:
    save_profile("keys", public_key="p", private_key=PRIVATE)
    with pytest.raises(ValueError, match=r"^host: profile 'keys' has no host"):
        Configuration.from_profile("keys")
    assert Configuration.from_profile("keys", host="https://h.example.org").private_key == PRIVATE


def test_cytomine_profile_is_loaded_then_overridden_by_env_then_keywords(
    two_profiles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CYTOMINE_PROFILE", "lab")
    config = Configuration.from_env()
    assert (config.host, config.public_key, config.signature, config.read_timeout) == (
        "https://lab.example.org", "PUB-L", "2025", 99.0)
    monkeypatch.setenv("CYTOMINE_HOST", "env.example.org")
    monkeypatch.setenv("CYTOMINE_SIGNATURE", "2026")
    monkeypatch.setenv("CYTOMINE_PRIVATE_KEY", "ENV-PRIVATE")  # one key of the pair alone
    config = Configuration.from_env()
    assert (config.host, config.public_key, config.private_key, config.signature) == (
        "https://env.example.org", "PUB-L", "ENV-PRIVATE", "2026")
    config = Configuration.from_env(host="kw.example.org", signature="legacy", read_timeout=1)
    assert (config.host, config.signature, config.read_timeout) == ("https://kw.example.org", "legacy", 1.0)


def test_token_in_env_replaces_profile_keys_and_vice_versa(
    two_profiles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CYTOMINE_PROFILE", "lab")
    monkeypatch.setenv("CYTOMINE_TOKEN", TOKEN)
    config = Configuration.from_env()
    assert (config.token, config.public_key, config.private_key) == (TOKEN, None, None)
    by_keys = Configuration.from_env(public_key="kp", private_key="ks")  # keywords replace env token
    assert (by_keys.token, by_keys.public_key) == (None, "kp")
    save_profile("tok", host="https://t.example.org", token=TOKEN)
    monkeypatch.setenv("CYTOMINE_PROFILE", "tok")
    monkeypatch.delenv("CYTOMINE_TOKEN")
    monkeypatch.setenv("CYTOMINE_PUBLIC_KEY", "ep")
    monkeypatch.setenv("CYTOMINE_PRIVATE_KEY", "es")
    config = Configuration.from_env()
    assert (config.host, config.token, config.public_key, config.private_key) == (
        "https://t.example.org", None, "ep", "es")


def test_env_both_token_and_keys_is_still_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYTOMINE_HOST", "h.example.org")
    monkeypatch.setenv("CYTOMINE_TOKEN", TOKEN)
    monkeypatch.setenv("CYTOMINE_PUBLIC_KEY", "p")
    monkeypatch.setenv("CYTOMINE_PRIVATE_KEY", PRIVATE)
    with pytest.raises(ValueError, match=r"^token") as caught:
        Configuration.from_env()
    assert_no_secret(str(caught.value))


def test_default_profile_is_the_fallback_when_no_host_is_given(
    two_profiles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Configuration.from_env()
    assert (config.host, config.public_key) == ("https://default.example.org", "PUB-D")
    assert Configuration.from_env(read_timeout=7).read_timeout == 7.0
    # A host given elsewhere never receives the default profile's keys.
    monkeypatch.setenv("CYTOMINE_HOST", "other.example.org")
    assert Configuration.from_env().public_key is None
    monkeypatch.delenv("CYTOMINE_HOST")
    assert Configuration.from_env(host="other.example.org").public_key is None


def test_no_fallback_without_a_default_section(isolated: Path) -> None:
    save_profile("lab", host="https://lab.example.org")
    with pytest.raises(ValueError, match=r"^host: set CYTOMINE_HOST or CYTOMINE_PROFILE") as caught:
        Configuration.from_env()
    assert str(isolated) in str(caught.value)


def test_unknown_cytomine_profile_fails(two_profiles: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYTOMINE_PROFILE", "nope")
    monkeypatch.setenv("CYTOMINE_HOST", "h.example.org")  # does not hide the missing profile
    with pytest.raises(ProfileNotFoundError, match="'default', 'lab'"):
        Configuration.from_env()


def test_profile_keys_are_exactly_the_configuration_parameters() -> None:
    import inspect

    from cytomine_sdk.profiles import PROFILE_SETTINGS

    parameters = inspect.signature(Configuration.__init__).parameters
    # token_provider is a callable: code only.
    assert set(PROFILE_SETTINGS) == set(parameters) - {"self", "token_provider"}
