"""Deployment groups for the benchmark, created through the emulator's REST API, and the
emulator's admin calls the scenarios make (cluster settings, request counts).

One project (``bench``, or another name for a fleet of its own) with a logical cloud over
``provider1/cluster1`` and ``provider2/cluster2``, one composite app ``capp1`` (one app,
``app1``: a Deployment and a Service) and its profile, and any number of DIGs ``dig-<n>``:
each with its own placement intent placing ``app1`` on cluster1, approved and instantiated.
With the emulator's rollout delay 0 they are Ready at once. Migrations alternate between the
two clusters, so the same DIGs serve every round.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.emco_sim import METER_PATH
from bench.stats import RequestCounts
from emco_migrate.emcosim.fixtures import multipart, sample_chart, sample_profile

PROJECT = "bench"
COMPOSITE_APP = "capp1"
VERSION = "v1"
APP = "app1"
PROFILE = "capp1-profile"
LOGICAL_CLOUD = "default"
CLUSTERS = (("provider1", "cluster1"), ("provider2", "cluster2"))
SETUP_CONCURRENCY = 8


@dataclass(frozen=True)
class Cluster:
    provider: str
    name: str

    def __str__(self) -> str:
        return f"{self.provider}+{self.name}"


SOURCE = Cluster(*CLUSTERS[0])
TARGET = Cluster(*CLUSTERS[1])


@dataclass(frozen=True)
class BenchDig:
    """One deployment intent group of the benchmark fleet."""

    emco_url: str
    name: str
    project: str = PROJECT

    @property
    def gpi(self) -> str:
        return f"{self.name}-placement"

    @property
    def app_intent(self) -> str:
        return f"{APP}-placement"

    @property
    def path(self) -> str:
        """The DIG's path under the emulator (starts with /v2)."""
        return (
            f"/v2/projects/{self.project}/composite-apps/{COMPOSITE_APP}/{VERSION}"
            f"/deployment-intent-groups/{self.name}"
        )

    @property
    def app_intent_path(self) -> str:
        return f"{self.path}/generic-placement-intents/{self.gpi}/app-intents/{self.app_intent}"

    def status_target(self, cluster: Cluster) -> str:
        """The status query a verification poll makes: is ``app1`` Ready on ``cluster``."""
        query = urlencode({"status": "ready", "app": APP, "cluster": str(cluster)})
        return f"{self.path}/status?{query}"

    def app_intent_body(self, cluster: Cluster) -> dict[str, Any]:
        """The app intent placing ``app1`` on ``cluster`` alone."""
        return {
            "metadata": {"name": self.app_intent},
            "spec": {
                "app": APP,
                "intent": {
                    "allOf": [{"clusterProvider": cluster.provider, "cluster": cluster.name}]
                },
            },
        }

    def activity_params(self, target: Cluster) -> dict[str, str]:
        """``activityParams["all-activities"]`` migrating this DIG to ``target``."""
        return {
            "emcoURL": self.emco_url,
            "project": self.project,
            "compositeApp": COMPOSITE_APP,
            "compositeAppVersion": VERSION,
            "deploymentIntentGroup": self.name,
            "targetClusterProvider": target.provider,
            "targetClusterName": target.name,
        }


async def _ok(response: httpx.Response, *also: int) -> None:
    if response.status_code >= 300 and response.status_code not in also:
        raise RuntimeError(
            f"emulator setup: {response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]!r}"
        )


async def create_fleet(
    emco_url: str, count: int, first: int = 0, project: str = PROJECT
) -> list[BenchDig]:
    """Create (once per project) the shared resources and DIGs ``dig-<first>`` ..
    ``dig-<first+count-1>`` in ``project``."""
    async with httpx.AsyncClient(base_url=emco_url, timeout=30.0) as c:
        if first == 0:
            await _create_shared(c, project)
        digs = [BenchDig(emco_url, f"dig-{n}", project) for n in range(first, first + count)]
        lanes = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def create(dig: BenchDig) -> None:
            async with lanes:
                await _create_dig(c, dig)

        await asyncio.gather(*(create(d) for d in digs))
    return digs


async def _create_shared(c: httpx.AsyncClient, project: str) -> None:
    rsync = {"host": "rsync", "port": 9031, "type": "", "priority": 0}
    await _ok(
        await c.post("/v2/controllers", json={"metadata": {"name": "rsync"}, "spec": rsync}), 409
    )
    for provider, cluster in CLUSTERS:
        await _ok(await c.post("/v2/cluster-providers", json={"metadata": {"name": provider}}), 409)
        kubeconfig = multipart({"metadata": {"name": cluster}}, b"apiVersion: v1\n")
        await _ok(await c.post(f"/v2/cluster-providers/{provider}/clusters", files=kubeconfig), 409)
    await _ok(await c.post("/v2/projects", json={"metadata": {"name": project}}))
    clouds = f"/v2/projects/{project}/logical-clouds"
    cloud = {"metadata": {"name": LOGICAL_CLOUD}, "spec": {"level": "0"}}
    await _ok(await c.post(clouds, json=cloud))
    for provider, cluster in CLUSTERS:
        spec = {"clusterProvider": provider, "cluster": cluster, "loadBalancerIP": "0.0.0.0"}
        ref = {"metadata": {"name": f"{provider}-{cluster}"}, "spec": spec}
        await _ok(await c.post(f"{clouds}/{LOGICAL_CLOUD}/cluster-references", json=ref))
    await _ok(await c.post(f"{clouds}/{LOGICAL_CLOUD}/instantiate"))
    app = {"metadata": {"name": COMPOSITE_APP}, "spec": {"compositeAppVersion": VERSION}}
    await _ok(await c.post(f"/v2/projects/{project}/composite-apps", json=app))
    base = f"/v2/projects/{project}/composite-apps/{COMPOSITE_APP}/{VERSION}"
    await _ok(
        await c.post(
            f"{base}/apps", files=multipart({"metadata": {"name": APP}}, sample_chart(APP))
        )
    )
    await _ok(await c.post(f"{base}/composite-profiles", json={"metadata": {"name": PROFILE}}))
    profile = {"metadata": {"name": f"{APP}-profile"}, "spec": {"app": APP}}
    profiles = f"{base}/composite-profiles/{PROFILE}/profiles"
    await _ok(await c.post(profiles, files=multipart(profile, sample_profile())))


async def _create_dig(c: httpx.AsyncClient, dig: BenchDig) -> None:
    spec = {
        "compositeProfile": PROFILE,
        "version": dig.name,
        "logicalCloud": LOGICAL_CLOUD,
        "overrideValues": [],
    }
    digs = (
        f"/v2/projects/{dig.project}/composite-apps/{COMPOSITE_APP}/{VERSION}"
        "/deployment-intent-groups"
    )
    await _ok(await c.post(digs, json={"metadata": {"name": dig.name}, "spec": spec}))
    link = {"intent": {"genericPlacementIntent": dig.gpi}}
    await _ok(
        await c.post(
            f"{dig.path}/intents",
            json={"metadata": {"name": f"{dig.name}-deployment-intent"}, "spec": link},
        )
    )
    gpis = f"{dig.path}/generic-placement-intents"
    await _ok(await c.post(gpis, json={"metadata": {"name": dig.gpi}}))
    await _ok(await c.post(f"{gpis}/{dig.gpi}/app-intents", json=dig.app_intent_body(SOURCE)))
    await _ok(await c.post(f"{dig.path}/approve"))
    await _ok(await c.post(f"{dig.path}/instantiate"))


async def set_cluster(emco_url: str, cluster: Cluster, **settings: object) -> None:
    """Change a simulated cluster through the admin API (``neverReady``, ...)."""
    async with httpx.AsyncClient(base_url=emco_url, timeout=30.0) as c:
        response = await c.put(
            f"/emulator/v1/clusters/{cluster.provider}/{cluster.name}", json=settings
        )
        response.raise_for_status()


async def reset_request_counts(emco_url: str) -> None:
    """Start counting afresh: zero the bench meter and clear the emulator's request log (so
    neither the log nor a reading of it grows with the run)."""
    async with httpx.AsyncClient(base_url=emco_url, timeout=30.0) as c:
        (await c.delete(METER_PATH)).raise_for_status()
        (await c.delete("/emulator/v1/requests")).raise_for_status()


async def read_request_counts(emco_url: str) -> RequestCounts:
    """The ``/v2`` requests since `reset_request_counts`: the meter's counts and the number of
    writes in the emulator's own request log (which holds writes only)."""
    async with httpx.AsyncClient(base_url=emco_url, timeout=30.0) as c:
        meter = await c.get(METER_PATH)
        meter.raise_for_status()
        logged = await c.get("/emulator/v1/requests")
        logged.raise_for_status()
    counted = meter.json()
    width = float(counted["bucketSeconds"])
    return RequestCounts(
        reads=int(counted["reads"]),
        writes=int(counted["writes"]),
        logged_writes=len(logged.json()),
        bucket_seconds=width,
        buckets=tuple((int(b), int(n)) for b, n in counted["buckets"]),
    )


@dataclass
class Fleet:
    """The benchmark's DIGs and the cluster each one's app is on now."""

    emco_url: str
    digs: list[BenchDig]
    location: dict[str, Cluster]

    @classmethod
    async def create(cls, emco_url: str, count: int, project: str = PROJECT) -> Fleet:
        """Create the shared resources and ``count`` DIGs in ``project``, all on cluster1."""
        digs = await create_fleet(emco_url, count, project=project)
        return cls(emco_url, digs, {d.name: SOURCE for d in digs})

    def target(self, dig: BenchDig) -> Cluster:
        """Where a migration of ``dig`` goes: the other cluster."""
        return TARGET if self.location[dig.name] == SOURCE else SOURCE

    def moved(self, dig: BenchDig) -> None:
        """Record that ``dig``'s app now runs on its former target."""
        self.location[dig.name] = self.target(dig)
