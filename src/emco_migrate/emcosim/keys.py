"""Where each EMCO resource is stored: its `Ref`, built from the URL's path parameters."""

from __future__ import annotations

from dataclasses import dataclass

from emco_migrate.emcosim.store import Ref

COMPOSITE_APPS = "composite-apps"
APPS = "apps"
COMPOSITE_PROFILES = "composite-profiles"
PROFILES = "profiles"
CONTROLLERS = "controllers"
DIGS = "deployment-intent-groups"
GROUP_INTENTS = "intents"
GPIS = "generic-placement-intents"
APP_INTENTS = "app-intents"
WORKFLOW_INTENTS = "temporal-workflow-intents"
PROVIDERS = "cluster-providers"
CLUSTERS = "clusters"
LABELS = "labels"
LOGICAL_CLOUDS = "logical-clouds"
CLUSTER_REFERENCES = "cluster-references"


def project(name: str) -> Ref:
    """A project."""
    return Ref("projects", (name,))


def composite_app(project_name: str, name: str, version: str) -> Ref:
    """A composite app version (two key segments, like its URL)."""
    return project(project_name).child(COMPOSITE_APPS, name, version)


def controller(name: str) -> Ref:
    """An orchestrator controller."""
    return Ref(CONTROLLERS, (name,))


def provider(name: str) -> Ref:
    """A CLM cluster provider."""
    return Ref(PROVIDERS, (name,))


def cluster(provider_name: str, name: str) -> Ref:
    """A CLM cluster."""
    return provider(provider_name).child(CLUSTERS, name)


def logical_cloud(project_name: str, name: str) -> Ref:
    """A DCM logical cloud."""
    return project(project_name).child(LOGICAL_CLOUDS, name)


@dataclass(frozen=True)
class DigId:
    """A deployment intent group's identity (project, composite app, version, name)."""

    project: str
    composite_app: str
    version: str
    name: str

    @property
    def app_ref(self) -> Ref:
        """The composite app version the DIG belongs to."""
        return composite_app(self.project, self.composite_app, self.version)

    @property
    def ref(self) -> Ref:
        """The DIG document."""
        return self.app_ref.child(DIGS, self.name)

    def sibling(self, version: str, name: str) -> DigId:
        """A DIG of another version of the same composite app."""
        return DigId(self.project, self.composite_app, version, name)
