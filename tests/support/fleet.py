"""Seeding a fleet in the emulator: many instantiated DIGs over projects and clusters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from emco_migrate.emcosim.fixtures import multipart, sample_chart, sample_profile
from support.emulator import SampleSetup, _ok, wait_app_ready

CLUSTERS = (("provider1", "cluster1"), ("provider2", "cluster2"), ("provider3", "cluster3"))


@dataclass(frozen=True)
class FleetDig:
    """One seeded DIG and the cluster its app was placed on."""

    setup: SampleSetup
    cluster: tuple[str, str]

    @property
    def key(self) -> str:
        s = self.setup
        return f"{s.project}/{s.composite_app}/{s.version}/{s.dig}"


def seed_project(
    url: str, placements: list[tuple[str, str]], *, instantiate: bool = True
) -> list[FleetDig]:
    """A new project whose logical cloud holds the three `CLUSTERS`, one composite app, and
    one DIG per entry of ``placements`` (``dig-000``, ...) with its app placed there;
    instantiated and Ready unless ``instantiate`` is false."""
    project = f"fleet-{uuid.uuid4().hex[:8]}"
    base = SampleSetup(url=url.rstrip("/"), project=project)
    with httpx.Client(base_url=base.url, timeout=10.0) as c:
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
        app = {"metadata": {"name": base.composite_app}, "spec": {"compositeAppVersion": "v1"}}
        _ok(c.post(f"/v2/projects/{project}/composite-apps", json=app))
        ca = base.composite_app_path
        _ok(
            c.post(
                f"{ca}/apps",
                files=multipart({"metadata": {"name": base.app}}, sample_chart(base.app)),
            )
        )
        _ok(c.post(f"{ca}/composite-profiles", json={"metadata": {"name": base.composite_profile}}))
        profile = {"metadata": {"name": f"{base.app}-profile"}, "spec": {"app": base.app}}
        profiles = f"{ca}/composite-profiles/{base.composite_profile}/profiles"
        _ok(c.post(profiles, files=multipart(profile, sample_profile())))
        digs = []
        for i, where in enumerate(placements):
            setup = SampleSetup(
                url=base.url, project=project, dig=f"dig-{i:03d}", gpi=f"dig-{i:03d}-gpi",
                source=where,
            )  # fmt: skip
            _create_dig(c, setup, instantiate=instantiate)
            digs.append(FleetDig(setup, where))
        if instantiate:
            for dig in digs:
                wait_app_ready(c, dig.setup, *dig.cluster)
    return digs


def _create_dig(c: httpx.Client, setup: SampleSetup, *, instantiate: bool) -> None:
    spec = {
        "compositeProfile": setup.composite_profile,
        "version": "r1",
        "logicalCloud": setup.logical_cloud,
        "overrideValues": [],
    }
    _ok(c.post(f"{setup.composite_app_path}/deployment-intent-groups",
               json={"metadata": {"name": setup.dig}, "spec": spec}))  # fmt: skip
    link = {"metadata": {"name": f"{setup.dig}-intent"},
            "spec": {"intent": {"genericPlacementIntent": setup.gpi}}}  # fmt: skip
    _ok(c.post(f"{setup.dig_path}/intents", json=link))
    gpis = f"{setup.dig_path}/generic-placement-intents"
    _ok(c.post(gpis, json={"metadata": {"name": setup.gpi}}))
    _ok(c.post(f"{gpis}/{setup.gpi}/app-intents", json=setup.app_intent_body(*setup.source)))
    _ok(c.post(f"{setup.dig_path}/approve"))
    if instantiate:
        _ok(c.post(f"{setup.dig_path}/instantiate"))


def placed_on(dig: FleetDig) -> list[tuple[str, str]]:
    """The clusters the DIG's app intent places its app on now."""
    with httpx.Client(base_url=dig.setup.url, timeout=10.0) as c:
        body = _ok(c.get(dig.setup.app_intent_path)).json()
    return [(e["clusterProvider"], e["cluster"]) for e in body["spec"]["intent"].get("allOf", [])]
