"""Logging in with a username and password through the server's IAM (Keycloak), against the stub's
token endpoint: login, refresh before expiry and after a 401, one refresh for many threads, a new
login once the refresh token has expired, refused logins, user-provided tokens."""

from __future__ import annotations

import argparse
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from cytomine_sdk import ApiClient, Configuration, InsecureTransportWarning
from cytomine_sdk.arguments import add_arguments
from cytomine_sdk.exceptions import AuthenticationError
from cytomine_sdk.profiles import save_profile
from tests.support.stub import DEFAULT_PASSWORD, IAM_TOKEN_PATH, CytomineStub, RecordedRequest

THREADS = 16


@pytest.fixture(params=["2026", "2025"])
def stub(request: pytest.FixtureRequest) -> Iterator[CytomineStub]:
    with CytomineStub(str(request.param)) as running:
        yield running


def _login(stub: CytomineStub, **options: object) -> ApiClient:
    return ApiClient(Configuration(stub.host, username=stub.username, password=stub.password, **options))  # type: ignore[arg-type]


def _grants(stub: CytomineStub) -> list[str]:
    return [parse_qs(r.body.decode())["grant_type"][0] for r in stub.token_requests()]


def _api_requests(stub: CytomineStub) -> list[RecordedRequest]:
    return [r for r in stub.requests if r.path != IAM_TOKEN_PATH]


def _in_parallel(call: Callable[[], object], n: int = THREADS) -> list[BaseException]:
    """Run `call` in `n` threads started together; the exceptions they raised."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_username_and_password_log_in_once_and_every_request_carries_the_token(stub: CytomineStub) -> None:
    with _login(stub) as api:
        assert not stub.token_requests()  # lazy: nothing sent before the first request
        assert api.whoami().user.username == "demo"
        assert [p.name for p in api.project_api.list()][:1] == ["Demo: lung biopsies"]
        assert api.bearer_token() in stub.accepted_tokens()

    (login,) = stub.token_requests()
    form = parse_qs(login.body.decode())
    assert form == {"grant_type": ["password"], "client_id": ["core"], "username": ["demo"],
                    "password": [DEFAULT_PASSWORD]}
    assert login.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in login.headers  # the token request itself carries no credentials
    calls = _api_requests(stub)
    assert len(calls) == 2 and all(r.status == 200 and r.principal == "demo" for r in calls)
    assert all(r.headers["authorization"].startswith("Bearer ey") for r in calls)
    assert all(DEFAULT_PASSWORD.encode() not in r.body and DEFAULT_PASSWORD not in r.raw_target for r in calls)


def test_a_token_expiring_during_a_long_run_is_refreshed_before_the_server_refuses_it() -> None:
    # Tokens of 1 s are renewed after 0.75 s: a 1.6 s run needs two refreshes, and no 401.
    with CytomineStub("2026", token_lifespan=1.0) as stub, _login(stub) as api:
        end = time.monotonic() + 1.6
        calls = 0
        while time.monotonic() < end:
            assert api.project_api.retrieve(100).id == 100
            calls += 1
        grants = _grants(stub)
    assert grants[0] == "password" and set(grants[1:]) == {"refresh_token"} and 1 <= len(grants) - 1 <= 3
    assert [r.status for r in _api_requests(stub)] == [200] * calls


def test_a_401_refreshes_the_token_once_and_sends_the_request_again(stub: CytomineStub) -> None:
    with _login(stub) as api:
        api.project_api.retrieve(100)
        first = api.bearer_token()
        stub.expire_tokens()  # revoked, or expired by the server's clock
        assert api.project_api.retrieve(100).id == 100
        assert api.bearer_token() != first
    assert _grants(stub) == ["password", "refresh_token"]
    assert [r.status for r in _api_requests(stub)] == [200, 401, 200]


def test_sixteen_threads_refused_an_expired_token_trigger_one_refresh(stub: CytomineStub) -> None:
    with _login(stub, pool_maxsize=THREADS) as api:
        api.whoami()
        stub.expire_tokens()
        errors = _in_parallel(lambda: api.project_api.retrieve(100))
    assert not errors
    assert _grants(stub) == ["password", "refresh_token"]
    statuses = [r.status for r in _api_requests(stub)][1:]
    assert statuses.count(200) == THREADS and set(statuses) <= {200, 401}


def test_sixteen_threads_needing_a_token_that_is_due_trigger_one_refresh() -> None:
    # Tokens of 2 s are due after 1.5 s; the refreshed one stays good for 1.5 s more.
    with CytomineStub("2026", token_lifespan=2.0) as stub, _login(stub, pool_maxsize=THREADS) as api:
        api.whoami()
        time.sleep(1.6)
        errors = _in_parallel(lambda: api.project_api.retrieve(100))
        grants = _grants(stub)
    assert not errors
    assert grants == ["password", "refresh_token"]
    assert [r.status for r in _api_requests(stub)] == [200] * (THREADS + 1)


def test_sixteen_threads_starting_together_log_in_once(stub: CytomineStub) -> None:
    with _login(stub, pool_maxsize=THREADS) as api:
        assert not _in_parallel(lambda: api.project_api.retrieve(100))
    assert _grants(stub) == ["password"]


def test_an_expired_refresh_token_leads_to_a_new_login(stub: CytomineStub) -> None:
    with _login(stub) as api:
        api.whoami()
        stub.expire_tokens(access=True, refresh=True)  # e.g. the IAM session ended
        assert api.whoami().user.username == "demo"
    # The refresh is refused ("Token is not active"), so the password logs in again.
    assert _grants(stub) == ["password", "refresh_token", "password"]
    refused = stub.token_requests("refresh_token")[0]
    assert refused.status == 400


def test_a_refresh_token_known_to_have_expired_is_not_tried() -> None:
    # Refresh tokens of 0.8 s are given up after 0.6 s: the client logs in again straight away.
    with CytomineStub("2025", token_lifespan=0.4, refresh_lifespan=0.8) as stub, _login(stub) as api:
        api.whoami()
        time.sleep(0.7)
        api.whoami()
        grants = _grants(stub)
    assert grants == ["password", "password"]
    assert all(r.status == 200 for r in stub.requests)


def test_a_wrong_password_raises_the_iams_message_once_without_retrying(stub: CytomineStub) -> None:
    secret = "wrong-password-s3cret"
    api = ApiClient(Configuration(stub.host, username="demo", password=secret, max_retries=3, retry_backoff=0))
    with pytest.raises(AuthenticationError) as info:
        api.project_api.retrieve(100)
    error = info.value
    assert error.status == 401 and error.server_message == "Invalid user credentials"
    assert "Invalid user credentials" in str(error) and "'demo'" in str(error)
    assert "check the username and password" in str(error)
    assert error.url.endswith(IAM_TOKEN_PATH)
    # Not tried again, by this call or later ones, even from many threads (the IAM's brute-force
    # protection would lock the account).
    errors = _in_parallel(lambda: api.project_api.retrieve(100))
    assert len(errors) == THREADS and all(isinstance(e, AuthenticationError) for e in errors)
    assert len(stub.token_requests()) == 1
    assert not _api_requests(stub)
    for text in (str(error), repr(error), error.body_excerpt, repr(api.configuration), *map(str, errors)):
        assert secret not in text


def test_legacy_servers_have_no_iam() -> None:
    with CytomineStub("legacy") as stub:
        api = ApiClient(Configuration(stub.host, username="demo", password=DEFAULT_PASSWORD))
        with pytest.raises(AuthenticationError, match="legacy servers have no IAM"):
            api.whoami()


def test_iam_url_points_the_login_elsewhere() -> None:
    config = Configuration("https://cytomine.example.org", username="u", password="p",
                           iam_url="https://login.example.org/auth/")
    assert config.token_url == "https://login.example.org/auth/realms/cytomine/protocol/openid-connect/token"
    assert Configuration("https://c.example.org/core", username="u", password="p").token_url == (
        "https://c.example.org/core/iam/realms/cytomine/protocol/openid-connect/token")
    with CytomineStub("2026") as stub, _login(stub, iam_url=f"{stub.host}/iam") as api:
        assert api.whoami().user.username == "demo"


def test_clients_made_with_with_options_share_the_login(stub: CytomineStub) -> None:
    with _login(stub) as api:
        quick = api.with_options(max_retries=0, read_timeout=5)
        api.whoami()
        quick.whoami()
        stub.expire_tokens()
        quick.whoami()
        api.whoami()
        assert api.bearer_token() == quick.bearer_token()
        # Other credentials: another source.
        other = api.with_options(username="alice", password="alice-password")
        assert other.whoami().user.username == "alice"
    assert _grants(stub) == ["password", "refresh_token", "password"]


def test_a_token_provider_is_asked_before_each_request_and_again_after_a_401() -> None:
    token = "provided-token.abc_DEF-123"
    given = iter(["stale-token", token, token, token, token])
    calls: list[str] = []

    def provider() -> str:
        calls.append(value := next(given))
        return value

    with CytomineStub("2026", token=token) as stub:
        api = ApiClient(Configuration(stub.host, token_provider=provider))
        assert api.whoami().user.username == "demo"  # stale -> 401 -> asked again -> sent again
        assert api.project_api.retrieve(100).id == 100
        assert "provided-token" not in repr(api.configuration) + repr(api._tokens)
        assert [r.status for r in stub.requests] == [401, 200, 200]
    assert calls == ["stale-token", token, token, token]  # the re-sent request asks again


def test_a_token_provider_is_never_called_by_two_threads_at_once() -> None:
    active = 0
    overlaps = 0
    lock = threading.Lock()

    def provider() -> str:
        nonlocal active, overlaps
        with lock:
            active += 1
            overlaps += active > 1
        time.sleep(0.002)
        with lock:
            active -= 1
        return "provided-token"

    with CytomineStub("2026", token="provided-token") as stub:
        api = ApiClient(Configuration(stub.host, token_provider=provider, pool_maxsize=THREADS))
        assert not _in_parallel(lambda: api.project_api.retrieve(100))
    assert overlaps == 0


@pytest.mark.parametrize(("value", "error"), [(42, TypeError), ("Bearer abc", ValueError), ("a\r\nb", ValueError)])
def test_a_token_provider_returning_no_token_is_an_error(value: object, error: type[Exception]) -> None:
    api = ApiClient(Configuration("http://127.0.0.1:9", token_provider=lambda: value))  # type: ignore[arg-type,return-value]
    with pytest.raises(error, match="token_provider") as info:
        api.project_api.retrieve(1)
    assert "abc" not in str(info.value)


def test_anonymous_requests_carry_no_credentials(stub: CytomineStub) -> None:
    with _login(stub) as api:
        assert api.fetch("GET", "/server/ping", anonymous=True).status == 200
        assert api.send("GET", "/server/ping", anonymous=True).status == 200
    assert not stub.token_requests()
    assert all("authorization" not in r.headers for r in stub.requests)


# -- configuration --


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"username": "u"}, "password"),
        ({"password": "p"}, "username"),
        ({"username": "", "password": "p"}, "username"),
        ({"username": "u", "password": ""}, "password"),
        ({"username": "u", "password": "p", "token": "t"}, "username"),
        ({"username": "u", "password": "p", "public_key": "k", "private_key": "s"}, "username"),
        ({"token": "t", "token_provider": lambda: "t"}, "token_provider"),
        ({"token_provider": "not callable"}, "token_provider"),
        ({"username": "u", "password": "p", "iam_url": "ftp://x"}, "iam_url"),
    ],
)
def test_bad_login_settings_name_the_argument(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(ValueError, match=f"^{argument}"):
        Configuration("https://h", **kwargs)  # type: ignore[arg-type]


def test_the_password_is_never_shown() -> None:
    secret = "pa55-w0rd-s3cret"
    config = Configuration("https://h", username="jdoe", password=secret)
    api = ApiClient(config)
    for text in (repr(config), str(config), repr(api._tokens), repr(api.with_options(read_timeout=5).configuration)):
        assert secret not in text
    assert "auth=password, username='jdoe'" in repr(config)


def test_other_credentials_replace_a_login_and_a_login_replaces_them() -> None:
    config = Configuration("https://h", username="u", password="p")
    token = config.replace(token="t")
    assert (token.token, token.username, token.password) == ("t", None, None)
    back = token.replace(username="v", password="q")
    assert (back.token, back.username, back.password) == (None, "v", "q")
    keys = back.replace(public_key="k", private_key="s")
    assert (keys.public_key, keys.username) == ("k", None)


def test_from_env_reads_username_and_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYTOMINE_HOST", "https://h")
    monkeypatch.setenv("CYTOMINE_USERNAME", "jdoe")
    monkeypatch.setenv("CYTOMINE_PASSWORD", "secret")
    config = Configuration.from_env()
    assert (config.username, config.password) == ("jdoe", "secret")
    # A token given as an override replaces the login from the environment.
    assert Configuration.from_env(token="t").username is None


def test_profiles_hold_a_login_and_the_environment_may_give_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "config.ini"
    monkeypatch.setenv("CYTOMINE_CONFIG", str(path))
    save_profile("lab", host="https://lab.example.org", username="jdoe", password="from-profile")
    save_profile("keys", host="https://lab.example.org", public_key="k", private_key="s")
    save_profile("user", host="https://lab.example.org", username="jdoe")  # password from elsewhere
    assert Configuration.from_profile("lab").password == "from-profile"
    monkeypatch.setenv("CYTOMINE_PROFILE", "user")
    monkeypatch.setenv("CYTOMINE_PASSWORD", "from-env")
    assert (Configuration.from_env().username, Configuration.from_env().password) == ("jdoe", "from-env")
    # A login from the environment replaces the profile's keys.
    monkeypatch.setenv("CYTOMINE_PROFILE", "keys")
    monkeypatch.setenv("CYTOMINE_USERNAME", "jdoe")
    config = Configuration.from_env()
    assert (config.public_key, config.username, config.password) == (None, "jdoe", "from-env")
    with pytest.raises(ValueError, match="password") as info:
        save_profile("bad", host="https://h", username="jdoe", password=42)
    assert "42" not in str(info.value)


def test_command_line_username_and_password(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = add_arguments(argparse.ArgumentParser())
    monkeypatch.setenv("CYTOMINE_PUBLIC_KEY", "k")
    monkeypatch.setenv("CYTOMINE_PRIVATE_KEY", "s")
    config = Configuration.from_args(parser.parse_args(["--host", "h", "--username", "jdoe", "--password", "pw"]))
    assert (config.username, config.password, config.public_key) == ("jdoe", "pw", None)
    monkeypatch.setenv("CYTOMINE_PASSWORD", "env-pw")
    config = Configuration.from_args(parser.parse_args(["--host", "h", "--username", "jdoe"]))
    assert config.password == "env-pw"
    assert "other users" in parser.format_help()


def test_a_password_over_plain_http_warns() -> None:
    with pytest.warns(InsecureTransportWarning, match="password"):
        Configuration("http://cytomine.example.org", username="u", password="p")
    with pytest.warns(InsecureTransportWarning, match="iam_url"):
        Configuration("https://cytomine.example.org", username="u", password="p", iam_url="http://iam.example.org")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Configuration("http://127.0.0.1:8080", username="u", password="p")
