"""An ApiClient that travels (issue 17): pickled, copied, or inherited by a forked child.

Real HTTP only: the stub (tests.support.stub) for the pickling tests, and for the process tests a
small keep-alive server of this module that records the client port of every request, so that
the tests see, on the server's side, which connection carried which process's requests.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
import pickle
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from cytomine_sdk import ApiClient, Configuration
from cytomine_sdk.exceptions import ClientClosedError
from tests.support import server_auth
from tests.support.stub import DEFAULT_PASSWORD, IAM_TOKEN_PATH, CytomineStub

# These tests fork a process that runs threads on purpose (servers, pools); Python 3.12+ warns
# that this may deadlock, which is what the fork handling under test prevents.
pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


STATIC_TOKEN = "eyJhbGciOiJSUzI1NiJ9.travels.signature"
LABEL = "X-Process"  # which process (and role) sent a request, as the process-tests' server records it
CALLS = 40  # per process, in the concurrency tests

fork_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")


# -- pickling against the stub ---------------------------------------------------------------------


@pytest.fixture(params=["2026", "2025", "legacy"])
def stub(request: pytest.FixtureRequest) -> Iterator[CytomineStub]:
    with CytomineStub(str(request.param), token=STATIC_TOKEN) as running:
        yield running


def _keys(stub: CytomineStub, **options: object) -> ApiClient:
    return ApiClient(Configuration(stub.host, public_key=stub.public_key, private_key=stub.private_key, **options))  # type: ignore[arg-type]


def _round_trip(api: ApiClient) -> ApiClient:
    restored = pickle.loads(pickle.dumps(api))
    assert isinstance(restored, ApiClient)
    return restored


def _api_requests(stub: CytomineStub) -> list[tuple[str, int]]:
    return [(r.path, r.status) for r in stub.requests if r.path != IAM_TOKEN_PATH]


def test_pickle_round_trip_then_calls_with_keys(stub: CytomineStub) -> None:
    with _keys(stub) as api:
        me = api.whoami()  # opens a connection, learns the server's generation and signing scheme
        assert me.generation == stub.generation
        data = pickle.dumps(api)
        assert stub.private_key.encode() in data  # the pickle carries the credentials (documented)
        stub.clear_requests()
        with pickle.loads(data) as restored:
            assert restored.server_generation == stub.generation and restored.generation == api.generation
            assert [p.name for p in restored.project_api.list()][:1] == ["Demo: lung biopsies"]
            assert restored.whoami().user.username == "demo"
            # The scheme learned before pickling is used at once: no 401 to learn it again.
            assert _api_requests(stub) == [("/api/project.json", 200), ("/api/user/current.json", 200)]
            assert api.project_api.retrieve(100).id == 100  # the original goes on, on its own connections
            assert stub.private_key not in repr(restored) and stub.private_key not in repr(restored.configuration)


@pytest.mark.parametrize("stub", ["2026", "2025"], indirect=True)  # legacy servers take API keys only
def test_pickle_round_trip_then_calls_with_a_bearer_token(stub: CytomineStub) -> None:
    with ApiClient(Configuration(stub.host, token=STATIC_TOKEN)) as api:
        assert api.whoami().user.username == "demo"
        data = pickle.dumps(api)
        assert STATIC_TOKEN.encode() in data
        with pickle.loads(data) as restored:
            assert restored.whoami().user.username == "demo"
            assert restored.bearer_token() == STATIC_TOKEN
            assert STATIC_TOKEN not in repr(restored)


@pytest.mark.parametrize("stub", ["2026", "2025"], indirect=True)  # legacy servers have no IAM
def test_an_unpickled_password_login_logs_in_again(stub: CytomineStub) -> None:
    with ApiClient(Configuration(stub.host, username=stub.username, password=stub.password)) as api:
        assert api.whoami().user.username == "demo"
        token = api.bearer_token()
        with _round_trip(api) as restored:
            assert len(stub.token_requests()) == 1  # lazy, as a new client: nothing sent yet
            assert restored.whoami().user.username == "demo"
            assert restored.bearer_token() != token  # its own login, not the original's token
            assert DEFAULT_PASSWORD not in repr(restored) and DEFAULT_PASSWORD not in repr(restored.configuration)
        assert api.bearer_token() == token  # the original keeps its token
    grants = [parse_qs(r.body.decode())["grant_type"][0] for r in stub.token_requests()]
    assert grants == ["password", "password"]
    assert all(status == 200 for _, status in _api_requests(stub))


def test_a_client_pickled_mid_use_works_on_the_other_side(stub: CytomineStub) -> None:
    with _keys(stub, pool_maxsize=2) as api:
        api.project_api.list()
        streamed = api.send("GET", "/api/project/100.json")  # its connection is in use, its body unread
        with _round_trip(api) as restored:
            assert restored.project_api.retrieve(101).id == 101
            assert json.loads(streamed.read())["id"] == 100
            streamed.release_conn()
            assert restored.project_api.retrieve(100).id == api.project_api.retrieve(100).id


def test_with_options_clients_and_copies_travel(stub: CytomineStub) -> None:
    with _keys(stub) as api:
        clone = api.with_options(read_timeout=7, max_retries=1)
        clone.project_api.list()
        restored = _round_trip(clone)
        assert restored.configuration.read_timeout == 7 and restored.configuration.max_retries == 1
        assert restored.project_api.retrieve(100).id == 100
        # Copies are independent clients too (the same configuration), unlike with_options clones.
        for other in (copy.copy(api), copy.deepcopy(api)):
            assert other.configuration.host == api.configuration.host
            assert other.project_api.retrieve(101).id == 101
            other.close()
        restored.close()
        assert clone.project_api.retrieve(100).id == 100  # closing a copy closes nothing here


def test_a_closed_client_pickles_as_closed(stub: CytomineStub) -> None:
    api = _keys(stub)
    api.project_api.list()
    api.close()
    sent = len(stub.requests)
    restored = _round_trip(api)
    with pytest.raises(ClientClosedError):
        restored.project_api.list()
    assert len(stub.requests) == sent


def provide_token() -> str:
    """A token_provider that pickles (module-level)."""
    return STATIC_TOKEN


@pytest.mark.parametrize("stub", ["2026", "2025"], indirect=True)  # legacy servers take API keys only
def test_a_token_provider_travels_when_it_pickles(stub: CytomineStub) -> None:
    with ApiClient(Configuration(stub.host, token_provider=provide_token)) as api:
        restored = _round_trip(api)
        assert restored.configuration.token_provider is provide_token
        assert restored.whoami().user.username == "demo"
        restored.close()


def test_an_unpicklable_token_provider_is_named_at_pickle_time() -> None:
    secret = "a-token-in-a-closure"
    configuration = Configuration("http://127.0.0.1:9", token_provider=lambda: secret)
    api = ApiClient(configuration)
    for target in (api, configuration, api.with_options(read_timeout=3)):
        with pytest.raises(pickle.PicklingError, match=r"token_provider: .*<lambda> cannot be pickled") as caught:
            pickle.dumps(target)
        assert secret not in str(caught.value)
    # Copies are not pickles: they work whatever the provider.
    assert copy.copy(configuration).token_provider is configuration.token_provider
    assert copy.deepcopy(api).configuration.token_provider is configuration.token_provider


# -- processes: a server that records which connection carried each request ----------------------

PUBLIC_KEY = "travel-public"
PRIVATE_KEY = "travel-private-secret"


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.lock = threading.Lock()
        self.seen: list[tuple[int, str, int]] = []  # (client port, X-Process label, status)
        self.tokens: set[str] = set()
        self.logins = 0
        self.hold_first_login = threading.Event()  # set: the first login is answered at once

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def ports(self, prefix: str) -> set[int]:
        with self.lock:
            return {port for port, label, _ in self.seen if label.startswith(prefix)}

    def statuses(self, prefix: str) -> list[int]:
        with self.lock:
            return [status for _, label, status in self.seen if label.startswith(prefix)]

    def shared_connections(self) -> dict[int, set[str]]:
        """Connections (client ports) that carried requests of more than one process."""
        by_port: dict[int, set[str]] = {}
        with self.lock:
            for port, label, _ in self.seen:
                by_port.setdefault(port, set()).add(label.split(":")[0])
        return {port: labels for port, labels in by_port.items() if len(labels) > 1}


class _RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Recorder

    def _answer(self, status: int, body: object) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        headers = dict(self.headers.items())
        caller = server_auth.authenticate(
            generation="2026", method="GET", raw_target=self.path, headers=headers,
            private_key_for={PUBLIC_KEY: PRIVATE_KEY}.get,
        )
        with self.server.lock:
            if caller is None:
                caller = server_auth.bearer_subject(headers, dict.fromkeys(self.server.tokens, "demo"))
            status = 200 if caller is not None else 401
            self.server.seen.append((self.client_address[1], self.headers.get(LABEL, "?"), status))
        self._answer(status, {"pid": os.getpid(), "path": self.path} if status == 200 else {})

    def do_POST(self) -> None:  # the IAM's token endpoint (password grant)
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
        if form.get("password") != [DEFAULT_PASSWORD]:
            self._answer(401, {"error": "invalid_grant"})
            return
        with self.server.lock:
            self.server.logins += 1
            first = self.server.logins == 1
            token = f"tok{self.server.logins}.{time.monotonic_ns()}"
            self.server.tokens.add(token)
        if first:
            self.server.hold_first_login.wait(30)
        self._answer(200, {"access_token": token, "expires_in": 300, "token_type": "Bearer"})

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    server = _Recorder()
    server.hold_first_login.set()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _signed(host: str) -> ApiClient:
    return ApiClient(Configuration(host, public_key=PUBLIC_KEY, private_key=PRIVATE_KEY, signature="2026",
                                   read_timeout=10, max_retries=0))


def calls(api: ApiClient, label: str, n: int = CALLS) -> list[int]:
    """`n` calls labelled `label` (pid added); the statuses. Module-level: run by pool workers."""
    label = f"{label}:{os.getpid()}"
    return [api.fetch("GET", f"/api/call/{i}.json", headers={LABEL: label}).status for i in range(n)]


def _assert_own_connections(server: _Recorder, child_prefix: str, children: int) -> None:
    assert server.statuses(child_prefix) and set(server.statuses(child_prefix)) == {200}
    assert server.shared_connections() == {}, "a connection carried the requests of two processes"
    assert not server.ports(child_prefix) & server.ports("parent")
    assert len({label for _, label, _ in server.seen if label.startswith(child_prefix)}) == children


@fork_only
def test_a_forked_child_uses_connections_of_its_own_while_the_parent_calls(recorder: _Recorder) -> None:
    with _signed(recorder.host) as api:
        assert calls(api, "parent", 3) == [200] * 3  # a kept-alive connection in the pool at fork time
        (before,) = recorder.ports("parent")
        ready_r, ready_w = os.pipe()

        def child() -> bool:
            os.write(ready_w, b"go")
            return calls(api, "child") == [200] * CALLS

        def parent() -> None:
            os.close(ready_w)  # then a child that dies first ends the read below
            assert os.read(ready_r, 2) == b"go"
            assert calls(api, "parent") == [200] * CALLS  # while the child makes its calls

        try:
            assert _run_child(child, parent) == 0
        finally:
            os.close(ready_r)
        # The child neither used nor closed the parent's connection: the parent is still on it.
        assert calls(api, "parent", 3) == [200] * 3
        assert recorder.ports("parent") == {before}
    _assert_own_connections(recorder, "child", 1)


class _BlockingProvider:
    """A token_provider that blocks in the parent (holding the client's token lock) until released."""

    def __init__(self, parent: int) -> None:
        self.parent = parent
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> str:
        if os.getpid() == self.parent:
            self.entered.set()
            self.release.wait(30)
        return STATIC_TOKEN


def _run_child(body: Callable[[], bool], meanwhile: Callable[[], object] = lambda: None) -> int:
    """Fork; the child runs `body()` (True: success) and exits, while the parent runs `meanwhile()`;
    the child's exit code (-9: killed, stuck after 30 s)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if body() else 2
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    try:
        meanwhile()
    finally:
        deadline = time.monotonic() + 30
        while not (ended := os.waitpid(pid, os.WNOHANG))[0] and time.monotonic() < deadline:
            time.sleep(0.02)
        if not ended[0]:  # still running (e.g. a deadlock): killed, and the test fails
            os.kill(pid, 9)
            ended = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(ended[1])


@fork_only
@pytest.mark.parametrize("credentials", ["password", "token_provider"])
def test_a_token_lock_held_by_another_thread_at_fork_does_not_block_the_child(
    recorder: _Recorder, credentials: str
) -> None:
    recorder.tokens.add(STATIC_TOKEN)
    provider = _BlockingProvider(os.getpid())
    if credentials == "password":
        recorder.hold_first_login.clear()  # the parent's login waits, its lock held, while the child runs
        configuration = Configuration(recorder.host, username="demo", password=DEFAULT_PASSWORD, read_timeout=20)
    else:
        configuration = Configuration(recorder.host, token_provider=provider, read_timeout=20)
    with ApiClient(configuration) as api:
        parent = threading.Thread(target=calls, args=(api, "parent", 1))
        parent.start()
        if credentials == "password":
            deadline = time.monotonic() + 10
            while recorder.logins == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
        else:
            assert provider.entered.wait(10)
        try:
            assert _run_child(lambda: calls(api, "child", 3) == [200] * 3) == 0
        finally:
            recorder.hold_first_login.set()
            provider.release.set()
            parent.join(30)
    assert recorder.statuses("parent") == [200]
    _assert_own_connections(recorder, "child", 1)


_POOL_CLIENT: ApiClient | None = None  # the client fork workers inherit


def _inherited_calls(label: str) -> list[int]:
    assert _POOL_CLIENT is not None
    return calls(_POOL_CLIENT, label, CALLS // 4)


@fork_only
def test_multiprocessing_fork_workers_use_connections_of_their_own(recorder: _Recorder) -> None:
    global _POOL_CLIENT
    with _signed(recorder.host) as api:
        _POOL_CLIENT = api
        try:
            assert calls(api, "parent", 2) == [200] * 2
            with multiprocessing.get_context("fork").Pool(2) as pool:
                work = pool.map_async(_inherited_calls, ["child"] * 4)
                assert calls(api, "parent") == [200] * CALLS
                assert work.get(60) == [[200] * (CALLS // 4)] * 4
        finally:
            _POOL_CLIENT = None
    assert 1 <= _children(recorder) <= 2
    _assert_own_connections(recorder, "child", _children(recorder))


def _children(server: _Recorder) -> int:
    return len({label for _, label, _ in server.seen if label.startswith("child")})


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_multiprocessing_workers_get_the_client_pickled(recorder: _Recorder, method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    with _signed(recorder.host) as api:
        assert calls(api, "parent", 2) == [200] * 2
        with multiprocessing.get_context(method).Pool(2) as pool:
            work = pool.starmap_async(calls, [(api, "child", CALLS // 4)] * 4)
            assert calls(api, "parent") == [200] * CALLS
            assert work.get(120) == [[200] * (CALLS // 4)] * 4
    assert 1 <= _children(recorder) <= 2
    _assert_own_connections(recorder, "child", _children(recorder))
