"""Generic placement: resolve an app's intent to clusters, as `gpic.IntentResolver` does.

Every ``allOf`` cluster is mandatory (a label expands to *all* clusters carrying it right
now). Each ``anyOf`` list, and each ``allOf`` entry with a nested ``anyOf``, is a group
from which one cluster is chosen: the first candidate that belongs to the logical cloud.
Every mandatory cluster must belong to the logical cloud.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from emco_migrate.emcosim.errors import ModuleError
from emco_migrate.wire.emco import ClusterSelector, PlacementIntent

NO_CLUSTERS = "No compatible clusters have been provided to the Deployment Intent Group"
NOT_IN_LOGICAL_CLOUD = "The specified Logical Cloud doesn't provide the mandatory clusters"
NO_QUALIFIED = "No Qualified Clusters to deploy App"


class ClusterName(NamedTuple):
    """A cluster by provider and name."""

    provider: str
    cluster: str

    def __str__(self) -> str:
        return f"{self.provider}+{self.cluster}"


LabelLookup = Callable[[str, str], list[str]]  # (provider, label) -> cluster names


@dataclass
class Resolution:
    """The clusters an intent asks for, before the logical-cloud choice."""

    mandatory: list[ClusterName] = field(default_factory=list)
    groups: list[list[ClusterName]] = field(default_factory=list)


def _expand(selector: ClusterSelector, labels: LabelLookup) -> list[ClusterName]:
    if selector.cluster:
        return [ClusterName(selector.provider, selector.cluster)]
    if selector.label:
        return [
            ClusterName(selector.provider, c) for c in labels(selector.provider, selector.label)
        ]
    return []


def resolve(intent: PlacementIntent, labels: LabelLookup) -> Resolution:
    """Mandatory clusters and anyOf groups of one app intent."""
    result = Resolution()
    for item in intent.all_of or []:
        if item.any_of:
            group = [c for sel in item.any_of for c in _expand(sel, labels)]
            if group:
                result.groups.append(group)
            continue
        result.mandatory.extend(_expand(item, labels))
    if intent.any_of:
        group = [c for sel in intent.any_of for c in _expand(sel, labels)]
        if group:
            result.groups.append(group)
    return result


def choose_clusters(
    resolution: Resolution, logical_cloud: Iterable[ClusterName]
) -> list[ClusterName]:
    """The clusters to deploy to: all mandatory ones, plus one per group (first in the LC).

    Raises `ModuleError` with EMCO's texts when nothing is placed, when a mandatory
    cluster is not in the logical cloud, or when a group has no cluster in it.
    """
    if not resolution.mandatory and not resolution.groups:
        raise ModuleError(NO_CLUSTERS)
    members = set(logical_cloud)
    if any(c not in members for c in resolution.mandatory):
        raise ModuleError(NOT_IN_LOGICAL_CLOUD)
    chosen = list(dict.fromkeys(resolution.mandatory))
    for group in resolution.groups:
        pick = next((c for c in group if c in members), None)
        if pick is None:
            raise ModuleError(NO_QUALIFIED)
        if pick not in chosen:
            chosen.append(pick)
    return chosen
