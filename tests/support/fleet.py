"""Seeding a fleet in the emulator for tests (`devstack.fleet_seed`), as `SampleSetup`s."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from emco_migrate.devstack import fleet_seed
from emco_migrate.emcomigrate import fleet
from emco_migrate.emcomigrate.types import ClusterRef
from support.emulator import SampleSetup, wait_app_ready


@dataclass(frozen=True)
class FleetDig:
    """One seeded DIG and the cluster its app was placed on."""

    setup: SampleSetup
    cluster: tuple[str, str]
    seeded: fleet_seed.SeededDig

    @property
    def key(self) -> str:
        return self.seeded.key


def seed_project(
    url: str, placements: list[tuple[str, str]], *, instantiate: bool = True
) -> list[FleetDig]:
    """`fleet_seed.seed_project` in a new project; waits until every app is Ready."""
    with httpx.Client(base_url=url.rstrip("/"), timeout=10.0) as c:
        seeded = fleet_seed.seed_project(c, placements, instantiate=instantiate)
        digs = [
            FleetDig(
                SampleSetup(
                    url=url.rstrip("/"), project=d.project, dig=d.dig, gpi=d.gpi, source=d.cluster
                ),
                d.cluster,
                d,
            )
            for d in seeded
        ]
        if instantiate:
            for dig in digs:
                wait_app_ready(c, dig.setup, *dig.cluster)
    return digs


def placed_on(dig: FleetDig) -> list[tuple[str, str]]:
    """The clusters the DIG's app intent places its app on now."""
    with httpx.Client(base_url=dig.setup.url, timeout=10.0) as c:
        return fleet_seed.placed_on(c, dig.seeded)


def moved_entries(count: int, evacuation_id: str) -> tuple[fleet.DigEntry, ...]:
    """``count`` DIGs an evacuation of provider1/cluster1 already moved (names as a large
    operator fleet spells them: 40 projects, 7 composite apps, two app intents per DIG)."""
    entries = []
    for i in range(count):
        project, app, dig = f"edge-site-{i % 40:03d}", f"cnf-bundle-{i % 7}", f"dig-{i:05d}"
        key = f"{project}/{app}/v1/{dig}"
        entries.append(
            fleet.DigEntry(
                key,
                project,
                app,
                "v1",
                dig,
                ("collectd", "operator"),
                ClusterRef("provider2", "cluster2"),
                ((f"{dig}-gpi", "collectd-placement-intent"), (f"{dig}-gpi", "operator-pi")),
                outcome=fleet.DigOutcome.MOVED,
                child_id=f"{evacuation_id}/{key}",
                started_at=1_796_000_000.0 + i * 0.37,
                ended_at=1_796_000_031.0 + i * 0.41,
            )
        )
    return tuple(entries)
