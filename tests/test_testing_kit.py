"""The testing kit (cytomine_sdk.testing): seeding, fixtures files, inspection, images, uploads,
downloads, properties, fault injection and the pytest plugin (its fixtures are used here as users
use them: the plugin is registered by the package's entry point)."""

from __future__ import annotations

import http.client
import json
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cytomine_sdk import ApiClient
from cytomine_sdk.exceptions import APITimeoutError, CytomineError, NotFoundError
from cytomine_sdk.testing import CytomineStub, Drift
from cytomine_sdk.uploads import upload_image, wait_until_ready

SQUARE = "POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0))"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def raw_get(stub: CytomineStub, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """An unsigned GET (public routes, and what a fault answers before authentication)."""
    conn = http.client.HTTPConnection(stub.host.removeprefix("http://"), timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# -- the plugin --


def test_the_plugin_is_registered_once_by_the_entry_point(request: pytest.FixtureRequest) -> None:
    plugin = request.config.pluginmanager.get_plugin("cytomine")
    assert plugin is not None and plugin.__name__ == "cytomine_sdk.testing._pytest_plugin"


def test_fixtures_run_on_every_generation(cytomine_stub: CytomineStub, cytomine_client: ApiClient,
                                          request: pytest.FixtureRequest) -> None:
    assert request.node.callspec.id == cytomine_stub.generation
    assert cytomine_client.configuration.host == cytomine_stub.host
    assert cytomine_client.project_api.retrieve(100).name == "Demo: lung biopsies"


@pytest.mark.cytomine(generations=["legacy"], seed=False)
def test_the_marker_chooses_generations_and_options(cytomine_stub: CytomineStub, cytomine_client: ApiClient) -> None:
    assert cytomine_stub.generation == "legacy"
    assert len(cytomine_client.project_api.list()) == 0 and list(cytomine_stub.state.users) == [1]


@pytest.mark.parametrize("cytomine_stub", ["2025"], indirect=True)
def test_indirect_parametrisation(cytomine_stub: CytomineStub) -> None:
    assert cytomine_stub.generation == "2025"


def test_command_line_option_and_plugin_switch(tmp_path: Path) -> None:
    (tmp_path / "test_gen.py").write_text(
        "def test_gen(cytomine_stub):\n    assert cytomine_stub.generation in ('2025', 'legacy')\n")
    base = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_gen.py"]
    chosen = subprocess.run([*base, "-v", "--cytomine-generation", "2025", "--cytomine-generation", "legacy"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert chosen.returncode == 0, chosen.stdout
    assert "test_gen[2025] PASSED" in chosen.stdout and "test_gen[legacy] PASSED" in chosen.stdout
    off = subprocess.run([*base, "-p", "no:cytomine"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert off.returncode != 0 and "fixture 'cytomine_stub' not found" in off.stdout


# -- seeding and inspection --


def test_seeding_from_python(cytomine_stub: CytomineStub, cytomine_client: ApiClient) -> None:
    bob = cytomine_stub.add_user("bob", password="bob-secret")
    ontology = cytomine_stub.add_ontology("Lung", {"Tumour": "#FF0000", "Stroma": "#00FF00"})
    project = cytomine_stub.add_project("Study", ontology=ontology, members=["bob"], id=5000)
    image = cytomine_stub.add_image(project, "a.svs", width=2000, height=1000)
    made = cytomine_stub.add_annotations(image, [SQUARE, {"location": "POINT (5 5)", "terms": ["Stroma"],
                                                          "user": bob}], terms=["Tumour"])
    assert project.id == 5000 and cytomine_stub.state.new_id() > 5000
    assert cytomine_client.project_api.retrieve(5000).name == "Study"
    listed = cytomine_client.annotation_api.list(image=image.id, show_term=True, show_meta=True)
    by_id = {a.id: a for a in listed}
    tumour, stroma = (t.id for t in cytomine_stub.state.terms_of_ontology(ontology.id))
    assert by_id[made[0].id].term == [tumour] and by_id[made[1].id].term == [stroma]
    assert by_id[made[1].id].user == bob.id
    assert cytomine_stub.state.projects[5000].users == sorted({1, bob.id})
    assert cytomine_stub.state.projects[5000].admins == [1]
    assert cytomine_stub.requests_to("GET", "/api/annotation.json")[-1].query["image"] == [str(image.id)]
    with pytest.raises(KeyError):
        cytomine_stub.add_annotations(image, [SQUARE], terms=["Unknown"])


@pytest.mark.cytomine(generations=["2026"], seed=False)
@pytest.mark.parametrize("kind", ["json", "yaml"])
def test_seeding_from_a_fixture_file(cytomine_stub: CytomineStub, cytomine_client: ApiClient, kind: str,
                                     tmp_path: Path) -> None:
    data: dict[str, Any] = {
        "users": [{"username": "bob", "password": "pw"}],
        "ontologies": [{"name": "Lung", "terms": ["Tumour", {"name": "Stroma", "color": "#00FF00"}]}],
        "projects": [{"name": "Study", "ontology": "Lung", "members": ["bob"], "properties": {"site": "Liège"},
                      "images": [{"filename": "a.svs", "width": 500, "height": 400, "properties": {"stain": "HE"},
                                  "annotations": ["POINT (1 1)", {"location": SQUARE, "terms": ["Tumour"],
                                                                  "user": "bob", "properties": {"k": 1}}]}]}],
    }
    path = tmp_path / f"data.{kind}"
    if kind == "yaml":
        import yaml

        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    else:
        path.write_text(json.dumps(data), encoding="utf-8")
    cytomine_stub.load_fixture(path)
    (project,) = cytomine_client.project_api.list()
    assert project.name == "Study" and project.number_of_annotations == 2
    assert cytomine_client.property_api.list_by_project(project.id)[0].value == "Liège"
    assert {p.key for p in cytomine_stub.state.properties.values()} == {"site", "stain", "k"}
    with pytest.raises(ValueError, match="unknown keys"):
        cytomine_stub.load_fixture({"project": []})


def test_yaml_without_pyyaml_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # an import of yaml fails
    (tmp_path / "d.yaml").write_text("projects: []\n")
    with pytest.raises(ImportError, match=r"cytomine-sdk\[testing\]"):
        CytomineStub("2026", fixture=tmp_path / "d.yaml")


# -- images, downloads, uploads, properties --


def test_images_are_real_and_agree(cytomine_stub: CytomineStub, cytomine_client: ApiClient) -> None:
    image = cytomine_stub.add_image(cytomine_stub.add_project("P"), width=3000, height=1500)
    (annotation,) = cytomine_stub.add_annotations(image, ["POLYGON ((100 100, 400 100, 400 300, 100 100))"])
    api = cytomine_client
    assert png_size(api.image_instance_api.download_window(image.id, 0, 0, 300, 200, "png")) == (300, 200)
    assert png_size(api.image_instance_api.download_window(image.id, 2900, 0, 300, 200, "png")) == (100, 200)
    assert png_size(api.annotation_api.download_crop(annotation.id, "png")) == (300, 200)
    assert png_size(api.annotation_api.download_crop(annotation.id, "png", max_size=150)) == (150, 100)
    jpeg = api.image_instance_api.download_window(image.id, 0, 0, 64, 32, "jpg")
    assert jpeg[:3] == b"\xff\xd8\xff"  # Pillow is installed in the test environment
    from cytomine_sdk.images import as_array

    pixels = as_array(api.image_instance_api.download_window(image.id, 250, 0, 12, 1, "png"))
    assert pixels.shape == (1, 12, 3) and (pixels[0, 0] != pixels[0, -1]).any()  # a square's edge at 256
    if cytomine_stub.generation != "legacy":  # 2025/2026 read the thumb's user from a token
        with cytomine_stub.client(username=cytomine_stub.username, password=cytomine_stub.password) as login:
            assert png_size(login.image_instance_api.download_thumb(image.id, "png")) == (512, 256)
    else:
        assert png_size(api.image_instance_api.download_thumb(image.id, "png", max_size=300)) == (300, 150)


def test_jpeg_without_pillow_is_a_png_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    with CytomineStub("legacy") as stub:
        resp = stub.client().send("GET", "/api/imageinstance/200/window-0-0-20-10.jpg")
    assert resp.headers["Content-Type"] == "image/png" and "Pillow" in resp.headers["X-Cytomine-Stub-Note"]
    assert png_size(resp.read()) == (20, 10)


def test_unknown_images_are_404_like_the_servers() -> None:
    with CytomineStub("legacy") as stub, stub.client() as api, pytest.raises(NotFoundError):
        api.image_instance_api.download_window(999, 0, 0, 10, 10, "png")


def test_downloads_honour_range() -> None:
    with CytomineStub("legacy") as stub, stub.client() as api:
        image = stub.add_image(100, "x.svs", content=b"0123456789")
        assert api.image_instance_api.download(image.id) == b"0123456789"
        resp = api.send("GET", f"/api/imageinstance/{image.id}/download", headers={"Range": "bytes=3-5"})
        assert resp.status == 206 and resp.read() == b"345" and resp.headers["Content-Range"] == "bytes 3-5/10"
        resp = api.send("GET", f"/api/imageinstance/{image.id}/download", headers={"Range": "bytes=4-"})
        assert resp.read() == b"456789"


def test_upload_status_progresses(cytomine_stub: CytomineStub, cytomine_client: ApiClient, tmp_path: Path) -> None:
    (tmp_path / "a.svs").write_bytes(b"II*\0" + bytes(100))
    cytomine_stub.upload_step_seconds = 60.0  # only polls move it
    result = upload_image(cytomine_client, tmp_path / "a.svs", storage=9001, projects=[101])
    assert result.uploaded_file.status == 0
    ident = result.uploaded_file.id
    assert ident is not None
    seen = [cytomine_client.uploaded_file_api.retrieve(ident).status for _ in range(5)]
    assert seen == [10, 20, 40, 100, 100]
    (tmp_path / "b.svs").write_bytes(b"not a slide")
    bad = upload_image(cytomine_client, tmp_path / "b.svs", storage=9001)
    assert bad.uploaded_file.id is not None
    with pytest.raises(CytomineError, match="ERROR_FORMAT"):
        wait_until_ready(cytomine_client, bad.uploaded_file.id, poll_interval=0.01, timeout=5)


def test_properties(cytomine_stub: CytomineStub, cytomine_client: ApiClient) -> None:
    image = cytomine_stub.state.images[200]
    cytomine_stub.add_property(image, "scanner", "S360")
    api = cytomine_client.property_api
    (prop,) = api.list_by_image_instance(200)
    assert (prop.key, prop.value, prop.domain_ident) == ("scanner", "S360", 200)
    assert api.retrieve_by_key_in_image_instance(200, "scanner").value == "S360"
    fqcn = "be.cytomine.ontology.UserAnnotation" if cytomine_stub.generation == "legacy" \
        else "be.cytomine.domain.ontology.UserAnnotation"
    resp = cytomine_client.send("POST", f"/api/domain/{fqcn}/300/property.json",
                                headers={"Content-Type": "application/json"}, body=b'{"key": "grade", "value": "3"}')
    assert json.loads(resp.read())["property"]["key"] == "grade"
    assert [p.value for p in api.list_by_annotation(300)] == ["3"]


# -- faults --


def test_fault_status_times_and_hits() -> None:
    with CytomineStub("2026") as stub, stub.client(max_retries=0) as api:
        fault = stub.fail("GET", "/api/project/{id}.json", status=503, times=2)
        for _ in range(2):
            with pytest.raises(CytomineError) as info:
                api.project_api.retrieve(100)
            assert "503" in str(info.value)
        assert api.project_api.retrieve(100).id == 100 and fault.hits == 2 and not fault.active
        assert [r.fault for r in stub.requests_to("GET", "/api/project/100.json")] == [True, True, False]
        assert raw_get(stub, "/api/project.json")[0] == 401  # other routes unaltered
        stub.fail("*", "/api/project.json", status=401)
        assert raw_get(stub, "/api/project.json") == (401, b"")
        stub.fail("GET", "/api/project.json", status=502, body={"custom": True}, headers={"X-A": "1"})
        assert json.loads(raw_get(stub, "/api/project.json")[1]) == {"custom": True}
        stub.clear_faults()
        assert api.project_api.list()


def test_fault_status_uses_the_servers_error_shape() -> None:
    with CytomineStub("2025") as stub:
        stub.fail("GET", "/server/ping", status=500)
        status, body = raw_get(stub, "/server/ping")
    assert status == 500 and set(json.loads(body)["errors"]) == {"message"}


def test_fault_delay() -> None:
    with CytomineStub("legacy") as stub, stub.client(max_retries=0, read_timeout=0.3) as api:
        stub.fail("GET", "/api/ontology/{id}.json", delay=1.0, times=1)
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            api.ontology_api.retrieve(10)
        assert time.monotonic() - started < 0.9
        assert api.ontology_api.retrieve(10).name == "Demo: lung tissue"  # the next request is on time


def test_fault_reset_after_bytes() -> None:
    with CytomineStub("legacy") as stub, stub.client(max_retries=0) as api:
        stub.fail("GET", "/api/project.json", reset_after=10)
        with pytest.raises(CytomineError, match=r"(?i)connection|incomplete|reset|protocol"):
            api.project_api.list()
        assert stub.requests_to("GET", "/api/project.json")[-1].fault


def test_fault_drift() -> None:
    with CytomineStub("2026") as stub, stub.client() as api:
        stub.fail("GET", "/api/project/{id}.json", drift=Drift(extra={"brandNew": 1}, rename={"name": "title"},
                                                                retype={"numberOfImages": "2"}, drop=["ontology"]))
        raw = json.loads(api.send("GET", "/api/project/100.json").read())
        assert raw["brandNew"] == 1 and "title" in raw and "name" not in raw and "ontology" not in raw
        assert raw["numberOfImages"] == "2"
        project = api.project_api.retrieve(100)  # the SDK stays lenient
        assert project.name is None and project.number_of_images == 2
        stub.fail("GET", "/api/ontology/{id}/term.json", drift=Drift(extra={"x": True}))
        rows = json.loads(api.send("GET", "/api/ontology/10/term.json").read())["collection"]
        assert rows and all(row["x"] is True for row in rows)
        stub.fail("GET", "/api/term/{id}.json", drift=lambda payload: {**payload, "color": 12})
        assert json.loads(api.send("GET", "/api/term/20.json").read())["color"] == 12


def test_fail_needs_an_effect() -> None:
    with pytest.raises(ValueError, match="needs"):
        CytomineStub("2026").fail("GET", "/api/project.json")
