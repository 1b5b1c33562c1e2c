"""Orchestrator over HTTP: routing traps, projects, composite apps, apps, profiles, controllers."""

from __future__ import annotations

import gzip

import httpx
import pytest

from emco_migrate.emcosim.fixtures import sample_chart

from .checks import dig_body, expect, multipart, unique

pytestmark = pytest.mark.integration


@pytest.fixture
def project(http: httpx.Client) -> str:
    name = unique("p")
    expect(http.post("/v2/projects", json={"metadata": {"name": name}}), 201)
    return name


@pytest.fixture
def capp(http: httpx.Client, project: str) -> str:
    body = {"metadata": {"name": "capp"}, "spec": {"compositeAppVersion": "v1"}}
    expect(http.post(f"/v2/projects/{project}/composite-apps", json=body), 201)
    return f"/v2/projects/{project}/composite-apps/capp/v1"


# ------------------------------------------------------------------------------- routing


def test_trailing_slash_is_another_path_and_unknown_methods_are_405(http: httpx.Client) -> None:
    expect(http.get("/v2/projects/"), 404, "404 page not found")
    response = expect(http.patch("/v2/projects"), 405)
    assert response.content == b""
    expect(http.get("/v2/nothing/here"), 404, "404 page not found")


def test_composite_app_needs_a_version_in_the_path(http: httpx.Client, capp: str) -> None:
    expect(http.get(capp.rsplit("/", 1)[0]), 404, "404 page not found")


def test_empty_lists_are_null(http: httpx.Client, capp: str) -> None:
    for path in ("/apps", "/deployment-intent-groups", "/composite-profiles"):
        response = expect(http.get(capp + path), 200)
        assert response.content == b"null\n"
        assert response.headers["content-type"] == "application/json"
    gpis = capp + "/deployment-intent-groups/missing/generic-placement-intents"
    assert expect(http.get(gpis), 200).json() is None
    assert expect(http.get(gpis + "/g/app-intents"), 200).json() is None


def test_lists_under_missing_parents_are_404(http: httpx.Client) -> None:
    expect(http.get("/v2/projects/nope/composite-apps"), 404, "Project not found")
    expect(
        http.get("/v2/projects/nope/composite-apps/a/v1/deployment-intent-groups"),
        404,
        "Project not found",
    )


# ------------------------------------------------------------------------------ projects


def test_project_codes(http: httpx.Client, project: str) -> None:
    expect(
        http.post("/v2/projects", json={"metadata": {"name": project}}),
        409,
        "Project already exists",
    )
    expect(http.post("/v2/projects", content=b""), 400, "Empty body")
    expect(http.post("/v2/projects", content=b'{"metadata":'), 422, "unexpected EOF")
    expect(http.post("/v2/projects", json={"metadata": {"name": "-bad"}}), 400)
    got = expect(http.get(f"/v2/projects/{project}"), 200).json()
    assert got == {
        "metadata": {"name": project, "description": "", "userData1": "", "userData2": ""}
    }
    expect(http.get("/v2/projects/missing"), 404, "Project not found")


def test_project_put_is_always_200_and_names_must_agree(http: httpx.Client) -> None:
    name = unique("put")
    expect(http.put(f"/v2/projects/{name}", json={"metadata": {"name": name}}), 200)
    expect(
        http.put(f"/v2/projects/{name}", json={"metadata": {"name": name, "description": "d"}}), 200
    )
    expect(
        http.put(f"/v2/projects/{name}", json={"metadata": {}}), 400, "Missing name in PUT request"
    )
    expect(
        http.put(f"/v2/projects/{name}", json={"metadata": {"name": "other"}}),
        400,
        "Mismatched name in PUT request",
    )
    expect(http.delete(f"/v2/projects/{name}"), 204)
    expect(http.delete(f"/v2/projects/{name}"), 404, "The requested resource not found")


def test_parent_missing_on_create_is_409_and_children_block_delete(
    http: httpx.Client, project: str, capp: str
) -> None:
    body = {"metadata": {"name": "x"}, "spec": {"compositeAppVersion": "v1"}}
    expect(
        http.post("/v2/projects/missing/composite-apps", json=body),
        409,
        "Cannot perform requested operation. Parent resource not found",
    )
    expect(
        http.post(
            "/v2/projects/missing/composite-apps/a/v1/deployment-intent-groups", json=dig_body("d")
        ),
        409,
        "Cannot perform requested operation. Parent resource not found",
    )
    expect(
        http.delete(f"/v2/projects/{project}"),
        409,
        "Cannot delete parent without deleting child references first",
    )


def test_composite_app_codes(http: httpx.Client, project: str, capp: str) -> None:
    body = {"metadata": {"name": "capp"}, "spec": {"compositeAppVersion": "v1"}}
    # EMCO's first-substring-wins table matches "App ..." inside "CompositeApp ...".
    expect(
        http.post(f"/v2/projects/{project}/composite-apps", json=body), 409, "App already exists"
    )
    expect(http.get(f"/v2/projects/{project}/composite-apps/other/v1"), 404, "App not found")
    # PUT keys by the body and is always 201.
    other = {"metadata": {"name": "capp2"}, "spec": {"compositeAppVersion": "v9"}}
    expect(http.put(f"/v2/projects/{project}/composite-apps/ignored/v0", json=other), 201)
    expect(http.get(f"/v2/projects/{project}/composite-apps/capp2/v9"), 200)
    names = [
        a["metadata"]["name"] for a in http.get(f"/v2/projects/{project}/composite-apps").json()
    ]
    assert names == ["capp", "capp2"]


# ---------------------------------------------------------------------------------- apps


def test_app_upload_rules(http: httpx.Client, capp: str) -> None:
    expect(
        http.post(capp + "/apps", json={"metadata": {"name": "a"}}),
        422,
        "request Content-Type isn't multipart/form-data",
    )
    expect(
        http.post(capp + "/apps", files=multipart({"metadata": {"name": "a"}}, None)),
        422,
        "Unable to process file",
    )
    expect(
        http.post(capp + "/apps", files=multipart({"metadata": {"name": "a"}}, b"plain")),
        422,
        "Error in file format",
    )
    gzip_not_tar = gzip.compress(b"not a tar archive")
    expect(
        http.post(capp + "/apps", files=multipart({"metadata": {"name": "a"}}, gzip_not_tar)),
        422,
        "Error in file format",
    )
    expect(http.post(capp + "/apps", files={"file": ("f", sample_chart())}), 400, "Empty body")
    created = expect(
        http.post(capp + "/apps", files=multipart({"metadata": {"name": "a"}}, sample_chart())), 201
    )
    assert created.json()["metadata"]["name"] == "a"
    expect(
        http.post(capp + "/apps", files=multipart({"metadata": {"name": "a"}}, sample_chart())),
        409,
        "App already exists",
    )
    expect(
        http.put(
            capp + "/apps/a",
            files=multipart({"metadata": {"name": "a", "description": "d"}}, sample_chart()),
        ),
        201,
    )


def test_app_get_follows_the_accept_header(http: httpx.Client, capp: str) -> None:
    chart = sample_chart("acc")
    expect(http.post(capp + "/apps", files=multipart({"metadata": {"name": "acc"}}, chart)), 201)
    url = capp + "/apps/acc"
    expect(http.get(url, headers={"accept": ""}), 406)
    expect(http.get(url), 300)  # httpx sends */*
    assert (
        expect(http.get(url, headers={"accept": "application/json"}), 200).json()["metadata"][
            "name"
        ]
        == "acc"
    )
    assert (
        expect(http.get(url, headers={"accept": "application/octet-stream"}), 200).content == chart
    )
    both = expect(http.get(url, headers={"accept": "multipart/form-data"}), 200)
    assert both.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert chart in both.content and b'"name":"acc"' in both.content
    expect(
        http.get(capp + "/apps/missing", headers={"accept": "application/json"}),
        404,
        "App not found",
    )


def test_profiles_and_app_lookup(http: httpx.Client, capp: str) -> None:
    expect(http.post(capp + "/composite-profiles", json={"metadata": {"name": "cp"}}), 201)
    expect(
        http.post(capp + "/composite-profiles", json={"metadata": {"name": "cp"}}),
        409,
        "CompositeProfile already exists",
    )
    profiles = capp + "/composite-profiles/cp/profiles"
    meta = {"metadata": {"name": "prof1"}, "spec": {"app": "a"}}
    expect(http.post(profiles, files=multipart(meta, sample_chart())), 201)
    again = {"metadata": {"name": "prof2"}, "spec": {"app": "a"}}
    expect(
        http.post(profiles, files=multipart(again, sample_chart())),
        409,
        "App already has an AppProfile",
    )
    listed = expect(http.get(profiles), 200).json()
    assert [p["spec"]["app"] for p in listed] == ["a"]
    by_app = http.get(profiles, params={"app": "a"}, headers={"accept": "application/json"})
    assert expect(by_app, 200).json()["metadata"]["name"] == "prof1"
    expect(
        http.get(profiles + "/prof1", params={"app": "a"}, headers={"accept": "application/json"}),
        500,
    )


def test_controllers(http: httpx.Client) -> None:
    name = unique("ctl")
    body = {"metadata": {"name": name}, "spec": {"host": "h", "port": 1}}
    created = expect(http.post("/v2/controllers", json=body), 201).json()
    assert created["spec"] == {"host": "h", "port": 1, "type": "", "priority": 0}
    expect(http.post("/v2/controllers", json=body), 409, "Controller already exists")
    expect(http.get("/v2/controllers/" + unique("none")), 404, "Controller not found")
    expect(http.put(f"/v2/controllers/{name}", json=body), 201)
    expect(http.delete(f"/v2/controllers/{name}"), 204)
