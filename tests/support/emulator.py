"""The EMCO emulator as a real subprocess, its admin API, and a ready-made sample deployment.

Fixtures:

* ``emulator`` (session): ``python -m emco_migrate emco-sim`` on a free port with its own
  SQLite file and ``--ready-delay 0.2``. Yields an `Emulator` (``.url``, admin helpers,
  ``.availability(setup)``: the ground truth of when the DIG's apps were Ready).
* ``emulator_reset`` (function, not autouse): yields the same `Emulator` and, after the
  test, clears injected faults and the request log and resets the settings of every
  cluster the test changed.
* ``sample_setup`` (function): `build_sample_setup` on the session emulator.
* ``fresh_emulator`` (function): a private emulator with empty state, for tests that need
  pristine global resources (CLM clusters and controllers are shared across projects).

`build_sample_setup` (importable) creates, through the REST API, a complete instantiated
deployment in a new project; see its docstring. `start_emulator` runs a private emulator
(e.g. for tests that need pristine clusters or a restart).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from emco_migrate.devstack.processes import ManagedProcess, free_port, wait_until
from emco_migrate.emcosim.fixtures import multipart, sample_chart, sample_profile
from support.waiting import poll

T = TypeVar("T")

HOST = "127.0.0.1"
READY_DELAY = 0.2
STARTUP_TIMEOUT = 30.0
DEFAULT_DEADLINE = 15.0


# --------------------------------------------------------------------------- admin API types


@dataclass(frozen=True)
class ClusterResource:
    """A resource deployed on a simulated cluster (``GET /emulator/v1/clusters``)."""

    project: str
    composite_app: str
    version: str
    dig: str
    app: str
    context: str
    api_version: str
    kind: str
    name: str
    state: str  # Pending | Retrying | NotReady | Ready | Deleting

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClusterResource:
        return cls(
            project=data["project"],
            composite_app=data["compositeApp"],
            version=data["compositeAppVersion"],
            dig=data["deploymentIntentGroup"],
            app=data["app"],
            context=data["context"],
            api_version=data["apiVersion"],
            kind=data["kind"],
            name=data["name"],
            state=data["state"],
        )


@dataclass(frozen=True)
class SimulatedCluster:
    """A simulated cluster, its settings and its resources."""

    provider: str
    cluster: str
    known: bool
    reachable: bool
    ready_delay_seconds: float
    never_ready: bool
    connectivity: str
    resources: tuple[ClusterResource, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SimulatedCluster:
        return cls(
            provider=data["clusterProvider"],
            cluster=data["cluster"],
            known=data["known"],
            reachable=data["reachable"],
            ready_delay_seconds=data["readyDelaySeconds"],
            never_ready=data["neverReady"],
            connectivity=data["connectivity"],
            resources=tuple(ClusterResource.from_json(r) for r in data["resources"]),
        )


@dataclass(frozen=True)
class Fault:
    """An injected fault rule: an error (``status``) or a hold (``hold_seconds``)."""

    id: int
    method: str | None
    path_regex: str
    status: int | None  # None for a hold fault
    remaining: int | None  # None: unlimited
    delay_seconds: float
    hold_seconds: float | None = None
    rate: float = 1.0
    seed: int | None = None
    hits: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        return cls(
            id=data["id"],
            method=data["method"],
            path_regex=data["pathRegex"],
            status=data["status"],
            remaining=data["remaining"],
            delay_seconds=data["delaySeconds"],
            hold_seconds=data["holdSeconds"],
            rate=data["rate"],
            seed=data["seed"],
            hits=data["hits"],
        )


@dataclass(frozen=True)
class AppAvailability:
    """An app's ground truth (``GET .../deployment-intent-groups/{dig}/availability``).

    ``clusters``: ``provider+cluster`` -> (Unix time, Ready from then on) per change;
    ``interruptions``: (from, until) when it was Ready on no cluster, ``until`` None while
    that lasts.
    """

    app: str
    clusters: dict[str, tuple[tuple[float, bool], ...]]
    interruptions: tuple[tuple[float, float | None], ...]
    interruption_seconds: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AppAvailability:
        return cls(
            app=data["app"],
            clusters={
                f"{c['clusterProvider']}+{c['cluster']}": tuple(
                    (t["at"], t["ready"]) for t in c["transitions"]
                )
                for c in data["clusters"]
            },
            interruptions=tuple((i["from"], i["until"]) for i in data["interruptions"]),
            interruption_seconds=data["interruptionSeconds"],
        )


@dataclass(frozen=True)
class Availability:
    """A DIG's ground truth: per app, and the largest app's interruption in seconds."""

    now: float
    apps: dict[str, AppAvailability]
    interruption_seconds: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Availability:
        apps = (AppAvailability.from_json(a) for a in data["apps"])
        return cls(
            now=data["now"],
            apps={a.app: a for a in apps},
            interruption_seconds=data["interruptionSeconds"],
        )


_UNSET: Any = object()


@dataclass
class Emulator:
    """A running emulator: its base URL and typed helpers for the admin API."""

    url: str
    db_path: Path
    process: ManagedProcess | None = None
    touched: set[tuple[str, str]] = field(default_factory=set)

    def client(self) -> httpx.Client:
        """A new client on the emulator's base URL (close it, or use it in ``with``)."""
        return httpx.Client(base_url=self.url, timeout=10.0)

    def _admin(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        with self.client() as client:
            response = client.request(method, f"/emulator/v1{path}", json=body, params=params)
        response.raise_for_status()
        return response.json() if response.content else None

    def clusters(self) -> list[SimulatedCluster]:
        """Every simulated cluster with its resources."""
        return [SimulatedCluster.from_json(c) for c in self._admin("GET", "/clusters")]

    def cluster(self, provider: str, cluster: str) -> SimulatedCluster:
        """One simulated cluster."""
        for found in self.clusters():
            if (found.provider, found.cluster) == (provider, cluster):
                return found
        raise LookupError(f"no simulated cluster {provider}/{cluster}")

    def resources(
        self, *, project: str | None = None, dig: str | None = None
    ) -> list[tuple[str, str, ClusterResource]]:
        """(provider, cluster, resource) for every deployed resource, optionally filtered."""
        return [
            (c.provider, c.cluster, r)
            for c in self.clusters()
            for r in c.resources
            if (project is None or r.project == project) and (dig is None or r.dig == dig)
        ]

    def set_cluster(
        self,
        provider: str,
        cluster: str,
        *,
        reachable: bool | None = None,
        ready_delay_seconds: float | None = _UNSET,
        never_ready: bool | None = None,
    ) -> SimulatedCluster:
        """Change a cluster's behaviour (``ready_delay_seconds=None`` restores the default)."""
        body: dict[str, Any] = {}
        if reachable is not None:
            body["reachable"] = reachable
        if ready_delay_seconds is not _UNSET:
            body["readyDelaySeconds"] = ready_delay_seconds
        if never_ready is not None:
            body["neverReady"] = never_ready
        self.touched.add((provider, cluster))
        return SimulatedCluster.from_json(
            self._admin("PUT", f"/clusters/{provider}/{cluster}", body)
        )

    def reset_clusters(self) -> None:
        """Restore the defaults of every cluster changed through `set_cluster`."""
        for provider, cluster in sorted(self.touched):
            self.set_cluster(
                provider, cluster, reachable=True, ready_delay_seconds=None, never_ready=False
            )
        self.touched.clear()

    def add_fault(
        self,
        path_regex: str,
        status: int | None = None,
        *,
        method: str | None = None,
        count: int | None = None,
        delay_seconds: float | None = None,
        hold_seconds: float | None = None,
        rate: float | None = None,
        seed: int | None = None,
    ) -> Fault:
        """Make matching requests (path includes /v2) answer ``status``, or hold them.

        An error fault needs ``status``; a hold fault (``hold_seconds``) applies the request
        that much later, whether or not its client still waits. Each matching request is hit
        with probability ``rate`` (``seed`` makes that repeatable); ``count`` caps the hits
        (default 1 without ``rate``, unlimited with it). Omitted arguments are not sent.
        """
        sent = {
            "pathRegex": path_regex,
            "status": status,
            "method": method,
            "count": count,
            "delaySeconds": delay_seconds,
            "holdSeconds": hold_seconds,
            "rate": rate,
            "seed": seed,
        }
        body = {key: value for key, value in sent.items() if value is not None}
        return Fault.from_json(self._admin("POST", "/faults", body))

    def faults(self) -> list[Fault]:
        """Fault rules with hits left."""
        return [Fault.from_json(f) for f in self._admin("GET", "/faults")]

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._admin("DELETE", "/faults")

    def requests(
        self, method: str | None = None, path_regex: str | None = None
    ) -> list[dict[str, Any]]:
        """The request log: every /v2 write, oldest first, optionally filtered.

        Entries as the admin API returns them: ``id``, ``method``, ``path``, ``arrivedAt`` and
        ``appliedAt`` (Unix seconds; ``appliedAt`` is None while held or when an error fault
        answered instead of EMCO), ``status``, ``faultId``.
        """
        params = {"method": method, "pathRegex": path_regex}
        query = {key: value for key, value in params.items() if value is not None}
        entries: list[dict[str, Any]] = self._admin("GET", "/requests", params=query)
        return entries

    def clear_requests(self) -> None:
        """Forget the request log."""
        self._admin("DELETE", "/requests")

    def availability(self, setup: SampleSetup) -> Availability:
        """The emulator's ground truth for the setup's DIG: when its apps were Ready where,
        and when they were Ready nowhere."""
        dig = (
            f"/projects/{setup.project}/composite-apps/{setup.composite_app}/{setup.version}"
            f"/deployment-intent-groups/{setup.dig}"
        )
        return Availability.from_json(self._admin("GET", f"{dig}/availability"))


# --------------------------------------------------------------------------- processes


@contextmanager
def start_emulator(
    db_path: Path, *, ready_delay: float = READY_DELAY, log_path: Path | None = None
) -> Iterator[Emulator]:
    """Run ``emco-sim`` as a subprocess on a free port until the block ends."""
    port = free_port(HOST)
    argv = [
        sys.executable, "-m", "emco_migrate", "emco-sim",
        "--host", HOST, "--port", str(port),
        "--db", str(db_path), "--ready-delay", str(ready_delay),
    ]  # fmt: skip
    process = ManagedProcess("emco-sim", argv, log_path=log_path or db_path.with_suffix(".log"))
    process.start()
    emulator = Emulator(url=f"http://{HOST}:{port}", db_path=db_path, process=process)
    try:
        wait_until(
            lambda: _healthy(emulator.url),
            timeout=STARTUP_TIMEOUT,
            what=f"EMCO emulator on port {port}",
            alive=process.exit_reason,
        )
        yield emulator
    finally:
        process.stop()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/emulator/v1/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """One emulator subprocess for the session (``--ready-delay 0.2``, its own state file)."""
    with start_emulator(tmp_path_factory.mktemp("emcosim") / "emcosim.db") as running:
        yield running


@pytest.fixture
def fresh_emulator(tmp_path: Path) -> Iterator[Emulator]:
    """A private emulator for one test: empty state, nothing shared with other tests."""
    with start_emulator(tmp_path / "emcosim.db") as running:
        yield running


@pytest.fixture
def emulator_reset(emulator: Emulator) -> Iterator[Emulator]:
    """The session emulator; faults, the request log and cluster settings are reset after."""
    yield emulator
    emulator.clear_faults()
    emulator.clear_requests()
    emulator.reset_clusters()


# --------------------------------------------------------------------------- sample setup


@dataclass(frozen=True)
class SampleSetup:
    """What `build_sample_setup` created. Paths start with ``/v2``."""

    url: str
    project: str
    composite_app: str = "capp1"
    version: str = "v1"
    app: str = "collectd"
    composite_profile: str = "capp1-profile"
    logical_cloud: str = "default"
    dig: str = "dig1"
    gpi: str = "dig1-placement-intent"
    app_intent: str = "collectd-placement-intent"
    source: tuple[str, str] = ("provider1", "cluster1")
    target: tuple[str, str] = ("provider2", "cluster2")

    @property
    def composite_app_path(self) -> str:
        return f"/v2/projects/{self.project}/composite-apps/{self.composite_app}/{self.version}"

    @property
    def dig_path(self) -> str:
        """``B``: the DIG's path."""
        return f"{self.composite_app_path}/deployment-intent-groups/{self.dig}"

    @property
    def app_intent_path(self) -> str:
        return f"{self.dig_path}/generic-placement-intents/{self.gpi}/app-intents/{self.app_intent}"

    def app_intent_body(self, provider: str, cluster: str) -> dict[str, Any]:
        """The app-intent body placing the app on one cluster (allOf)."""
        return {
            "metadata": {"name": self.app_intent},
            "spec": {
                "app": self.app,
                "intent": {"allOf": [{"clusterProvider": provider, "cluster": cluster}]},
            },
        }

    def activity_params(self) -> dict[str, str]:
        """``activityParams["all-activities"]`` for migrating this DIG to the target."""
        return {
            "emcoURL": self.url,
            "project": self.project,
            "compositeApp": self.composite_app,
            "compositeAppVersion": self.version,
            "deploymentIntentGroup": self.dig,
            "targetClusterProvider": self.target[0],
            "targetClusterName": self.target[1],
        }


@contextmanager
def _client_for(url: str, client: httpx.Client | None) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    with httpx.Client(base_url=url, timeout=10.0) as own:
        yield own


def _ok(response: httpx.Response, *also: int) -> httpx.Response:
    if response.status_code >= 300 and response.status_code not in also:
        raise AssertionError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text!r}"
        )
    return response


def build_sample_setup(
    url: str,
    *,
    project: str | None = None,
    wait_ready: bool = True,
    client: httpx.Client | None = None,
) -> SampleSetup:
    """Create an instantiated deployment through the emulator's REST API.

    In a new project (``project`` or a unique ``proj-<hex>``): logical cloud ``default``
    (level 0) referencing ``provider1/cluster1`` and ``provider2/cluster2`` (both created
    in CLM if missing, with controller ``rsync``), instantiated; composite app
    ``capp1``/``v1`` with app ``collectd`` (`sample_chart`: a Deployment ``collectd`` and a
    Service ``collectd-svc``); composite profile ``capp1-profile`` with profile
    ``collectd-profile``; DIG ``dig1`` (release ``r1``) with ``/intents`` entry
    ``genericPlacementIntent: dig1-placement-intent`` and app intent
    ``collectd-placement-intent`` placing ``collectd`` on ``provider1/cluster1``; approved
    and instantiated. With ``wait_ready`` it returns once the app is Ready on cluster1.
    ``client`` (e.g. a Starlette TestClient) replaces the HTTP client made for ``url``.
    """
    setup = SampleSetup(url=url.rstrip("/"), project=project or f"proj-{uuid.uuid4().hex[:10]}")
    with _client_for(setup.url, client) as c:
        _create_clusters(c, setup)
        _create_logical_cloud(c, setup)
        _create_composite_app(c, setup)
        _create_dig(c, setup)
        _ok(c.post(f"{setup.dig_path}/approve"))
        _ok(c.post(f"{setup.dig_path}/instantiate"))
        if wait_ready:
            wait_app_ready(c, setup, *setup.source)
    return setup


def _create_clusters(c: httpx.Client, setup: SampleSetup) -> None:
    """Controller rsync and both clusters (kept if they exist: CLM is global)."""
    rsync = {"host": "rsync", "port": 9031, "type": "", "priority": 0}
    _ok(c.post("/v2/controllers", json={"metadata": {"name": "rsync"}, "spec": rsync}), 409)
    for provider, cluster in (setup.source, setup.target):
        _ok(c.post("/v2/cluster-providers", json={"metadata": {"name": provider}}), 409)
        kubeconfig = multipart({"metadata": {"name": cluster}}, b"apiVersion: v1\n")
        _ok(c.post(f"/v2/cluster-providers/{provider}/clusters", files=kubeconfig), 409)


def _create_logical_cloud(c: httpx.Client, setup: SampleSetup) -> None:
    _ok(c.post("/v2/projects", json={"metadata": {"name": setup.project}}))
    clouds = f"/v2/projects/{setup.project}/logical-clouds"
    cloud = {"metadata": {"name": setup.logical_cloud}, "spec": {"level": "0"}}
    _ok(c.post(clouds, json=cloud))
    for provider, cluster in (setup.source, setup.target):
        spec = {"clusterProvider": provider, "cluster": cluster, "loadBalancerIP": "0.0.0.0"}
        reference = {"metadata": {"name": f"{provider}-{cluster}"}, "spec": spec}
        _ok(c.post(f"{clouds}/{setup.logical_cloud}/cluster-references", json=reference))
    _ok(c.post(f"{clouds}/{setup.logical_cloud}/instantiate"))


def _create_composite_app(c: httpx.Client, setup: SampleSetup) -> None:
    app = {
        "metadata": {"name": setup.composite_app},
        "spec": {"compositeAppVersion": setup.version},
    }
    _ok(c.post(f"/v2/projects/{setup.project}/composite-apps", json=app))
    base = setup.composite_app_path
    chart = multipart({"metadata": {"name": setup.app}}, sample_chart(setup.app))
    _ok(c.post(f"{base}/apps", files=chart))
    _ok(c.post(f"{base}/composite-profiles", json={"metadata": {"name": setup.composite_profile}}))
    profile = {"metadata": {"name": f"{setup.app}-profile"}, "spec": {"app": setup.app}}
    profiles = f"{base}/composite-profiles/{setup.composite_profile}/profiles"
    _ok(c.post(profiles, files=multipart(profile, sample_profile())))


def _create_dig(c: httpx.Client, setup: SampleSetup) -> None:
    spec = {
        "compositeProfile": setup.composite_profile,
        "version": "r1",
        "logicalCloud": setup.logical_cloud,
        "overrideValues": [],
    }
    digs = f"{setup.composite_app_path}/deployment-intent-groups"
    _ok(c.post(digs, json={"metadata": {"name": setup.dig}, "spec": spec}))
    link = {"intent": {"genericPlacementIntent": setup.gpi}}
    group_intent = {"metadata": {"name": f"{setup.dig}-deployment-intent"}, "spec": link}
    _ok(c.post(f"{setup.dig_path}/intents", json=group_intent))
    gpis = f"{setup.dig_path}/generic-placement-intents"
    _ok(c.post(gpis, json={"metadata": {"name": setup.gpi}}))
    _ok(c.post(f"{gpis}/{setup.gpi}/app-intents", json=setup.app_intent_body(*setup.source)))


def wait_app_ready(
    client: httpx.Client, setup: SampleSetup, provider: str, cluster: str
) -> dict[str, Any]:
    """Poll ``status=ready`` until the app is Ready with resources on that cluster."""

    def probe() -> dict[str, Any] | None:
        response = client.get(
            f"{setup.dig_path}/status",
            params={"status": "ready", "app": setup.app, "cluster": f"{provider}+{cluster}"},
        )
        body: dict[str, Any] = response.json()
        apps = body.get("apps") or []
        on_cluster = [
            c
            for a in apps
            for c in a.get("clusters", [])
            if (c["clusterProvider"], c["cluster"]) == (provider, cluster) and c.get("resources")
        ]
        ready = body.get("readyStatus") == "Ready" and on_cluster
        return body if ready and on_cluster[0]["connectivity"] == "Available" else None

    return poll(probe, what=f"{setup.app} Ready on {provider}/{cluster}")


@pytest.fixture
def sample_setup(emulator: Emulator) -> SampleSetup:
    """`build_sample_setup` in a fresh project on the session emulator (ready on cluster1)."""
    return build_sample_setup(emulator.url)
