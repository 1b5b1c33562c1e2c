"""A fleet in the EMCO emulator: projects of many instantiated DIGs over three clusters, for
`demo --evacuate` and the evacuation tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from emco_migrate.emcosim.fixtures import multipart, sample_chart, sample_profile

CLUSTERS = (("provider1", "cluster1"), ("provider2", "cluster2"), ("provider3", "cluster3"))
APP = "collectd"
COMPOSITE_APP, VERSION, PROFILE = "capp1", "v1", "capp1-profile"


@dataclass(frozen=True)
class SeededDig:
    """One DIG of the fleet, the cluster its app was placed on, and its paths."""

    project: str
    dig: str
    cluster: tuple[str, str]

    @property
    def key(self) -> str:
        """``project/composite app/version/dig``, as an evacuation names it."""
        return f"{self.project}/{COMPOSITE_APP}/{VERSION}/{self.dig}"

    @property
    def dig_path(self) -> str:
        """The DIG's path (``/v2/...``)."""
        app = f"/v2/projects/{self.project}/composite-apps/{COMPOSITE_APP}/{VERSION}"
        return f"{app}/deployment-intent-groups/{self.dig}"

    @property
    def gpi(self) -> str:
        """Its generic placement intent."""
        return f"{self.dig}-gpi"

    @property
    def app_intent_path(self) -> str:
        """Its one app intent."""
        gpi = f"{self.dig_path}/generic-placement-intents/{self.gpi}"
        return f"{gpi}/app-intents/{APP}-placement-intent"


def _ok(response: httpx.Response, *also: int) -> httpx.Response:
    if response.status_code >= 300 and response.status_code not in also:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text.strip()[:200]}"
        )
    return response


def app_intent_body(provider: str, cluster: str) -> dict[str, object]:
    """The app intent placing the app on one cluster."""
    placement = {"allOf": [{"clusterProvider": provider, "cluster": cluster}]}
    return {
        "metadata": {"name": f"{APP}-placement-intent"},
        "spec": {"app": APP, "intent": placement},
    }


def seed_project(
    client: httpx.Client,
    placements: list[tuple[str, str]],
    *,
    project: str = "",
    instantiate: bool = True,
) -> list[SeededDig]:
    """A new project (``project`` or ``fleet-<hex>``) whose logical cloud holds `CLUSTERS`,
    one composite app, and one DIG per entry of ``placements`` (``dig-000``, ...) with its
    app placed there; approved, and instantiated unless ``instantiate`` is false."""
    project = project or f"fleet-{uuid.uuid4().hex[:8]}"
    c = client
    rsync = {"host": "rsync", "port": 9031, "type": "", "priority": 0}
    _ok(c.post("/v2/controllers", json={"metadata": {"name": "rsync"}, "spec": rsync}), 409)
    _ok(c.post("/v2/projects", json={"metadata": {"name": project}}))
    clouds = f"/v2/projects/{project}/logical-clouds"
    _ok(c.post(clouds, json={"metadata": {"name": "default"}, "spec": {"level": "0"}}))
    for provider, cluster in CLUSTERS:
        _ok(c.post("/v2/cluster-providers", json={"metadata": {"name": provider}}), 409)
        kubeconfig = multipart({"metadata": {"name": cluster}}, b"apiVersion: v1\n")
        _ok(c.post(f"/v2/cluster-providers/{provider}/clusters", files=kubeconfig), 409)
        spec = {"clusterProvider": provider, "cluster": cluster, "loadBalancerIP": "0.0.0.0"}
        ref = {"metadata": {"name": f"{provider}-{cluster}"}, "spec": spec}
        _ok(c.post(f"{clouds}/default/cluster-references", json=ref))
    _ok(c.post(f"{clouds}/default/instantiate"))
    app = {"metadata": {"name": COMPOSITE_APP}, "spec": {"compositeAppVersion": VERSION}}
    _ok(c.post(f"/v2/projects/{project}/composite-apps", json=app))
    ca = f"/v2/projects/{project}/composite-apps/{COMPOSITE_APP}/{VERSION}"
    _ok(c.post(f"{ca}/apps", files=multipart({"metadata": {"name": APP}}, sample_chart(APP))))
    _ok(c.post(f"{ca}/composite-profiles", json={"metadata": {"name": PROFILE}}))
    profile = {"metadata": {"name": f"{APP}-profile"}, "spec": {"app": APP}}
    _ok(
        c.post(
            f"{ca}/composite-profiles/{PROFILE}/profiles",
            files=multipart(profile, sample_profile()),
        )
    )
    digs = []
    for i, where in enumerate(placements):
        dig = SeededDig(project, f"dig-{i:03d}", where)
        dig_spec: dict[str, object] = {
            "compositeProfile": PROFILE,
            "version": "r1",
            "logicalCloud": "default",
            "overrideValues": [],
        }
        body = {"metadata": {"name": dig.dig}, "spec": dig_spec}
        _ok(c.post(f"{ca}/deployment-intent-groups", json=body))
        link = {"metadata": {"name": f"{dig.dig}-intent"},
                "spec": {"intent": {"genericPlacementIntent": dig.gpi}}}  # fmt: skip
        _ok(c.post(f"{dig.dig_path}/intents", json=link))
        gpis = f"{dig.dig_path}/generic-placement-intents"
        _ok(c.post(gpis, json={"metadata": {"name": dig.gpi}}))
        _ok(c.post(f"{gpis}/{dig.gpi}/app-intents", json=app_intent_body(*where)))
        _ok(c.post(f"{dig.dig_path}/approve"))
        if instantiate:
            _ok(c.post(f"{dig.dig_path}/instantiate"))
        digs.append(dig)
    return digs


def placed_on(client: httpx.Client, dig: SeededDig) -> list[tuple[str, str]]:
    """The clusters the DIG's app intent places its app on now (``allOf``)."""
    body = _ok(client.get(dig.app_intent_path)).json()
    return [(e["clusterProvider"], e["cluster"]) for e in body["spec"]["intent"].get("allOf", [])]
