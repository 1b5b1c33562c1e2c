"""Which EMCO service an anchor goes to, and the URLs emcoctl derives from an anchor.

An anchor is the resource path without ``/v2`` (``projects/p1/composite-apps``); it may carry
a query string (``.../status?workflowID=w1``), which is passed through unchanged. The rules
follow emcoctl's ``GetURL``, ``getUpdateUrl`` and ``RestClientDelete``.
"""

from __future__ import annotations

from emco_migrate.emcoctl.config import Service

# Anchors ending in these name an action, not a resource: `update` sends no PUT for them.
UPDATE_SKIPPED = frozenset(
    {"instantiate", "apply", "approve", "terminate", "migrate", "update", "rollback"}
)
# `get` also skips `stop`.
GET_SKIPPED = UPDATE_SKIPPED | {"stop"}
# `delete` turns these into POST .../terminate ...
DELETE_TERMINATES = frozenset({"instantiate", "apply"})
# ... and does nothing for these.
DELETE_SKIPPED = frozenset({"approve", "status", "migrate", "update", "rollback"})
# `get` of a single resource under these collections asks for JSON metadata only.
_METADATA_COLLECTIONS = frozenset({"apps", "profiles", "clusters", "resources", "customizations"})

# projects/{p}/composite-apps/{ca}/{v}/deployment-intent-groups/{dig}/<8th segment>
_DIG_CONTROLLERS = {
    "network-chains": Service.SFC,
    "sfc-clients": Service.SFCCLIENT,
    "network-controller-intent": Service.OVNACTION,
    "traffic-group-intents": Service.DTC,
    "generic-k8s-intents": Service.GAC,
    "hpa-intents": Service.HPAPLACEMENT,
    "temporal-workflow-intents": Service.WORKFLOWMGR,
    "temporal-action-controller": Service.TAC,
}
_NCM_SEGMENTS = frozenset({"networks", "provider-networks", "apply", "terminate", "stop"})


class AnchorError(ValueError):
    """An anchor emcoctl cannot route."""


def service_for(anchor: str) -> Service:
    """The service that serves ``anchor`` (emcoctl's ``GetURL``)."""
    s = anchor.split("/")
    first = s[0]
    if first == "cluster-providers":
        if len(s) >= 5 and (s[4] in _NCM_SEGMENTS or s[4].startswith("status")):
            return Service.NCM
        if len(s) >= 3 and s[2] == "ca-certs":
            return Service.CACERT
        return Service.CLM
    if first == "controllers":
        return Service.ORCHESTRATOR
    if first == "clm-controllers":
        return Service.CLM
    if first == "dtc-controllers":
        return Service.DTC
    if first == "projects":
        if len(s) >= 3 and s[2] == "logical-clouds":
            return Service.DCM
        if len(s) >= 3 and s[2] == "ca-certs":
            return Service.CACERT
        if len(s) >= 8 and s[7] in _DIG_CONTROLLERS:
            return _DIG_CONTROLLERS[s[7]]
        return Service.ORCHESTRATOR
    hint = " (anchors have no leading /)" if anchor.startswith("/") else ""
    raise AnchorError(f"invalid anchor {anchor!r}: no EMCO service serves it{hint}")


def last_segment(anchor: str) -> str:
    """The anchor's last path segment, without any query string."""
    return anchor.partition("?")[0].rstrip("/").rsplit("/", 1)[-1]


def resource_anchor(anchor: str, name: str, cluster_label: str, version: str) -> str:
    """The anchor of the document's own resource (emcoctl's ``getUpdateUrl``).

    ``anchor/<name>``; composite apps add ``/<compositeAppVersion>``; a document without a
    name but with a ``clusterLabel`` gives ``anchor/<label>``; otherwise the anchor itself.
    """
    if name:
        resource = f"{anchor}/{name}"
        if last_segment(anchor) == "composite-apps":
            resource = f"{resource}/{version}"
        return resource
    if cluster_label:
        return f"{anchor}/{cluster_label}"
    return anchor


def terminate_anchor(anchor: str) -> str:
    """``.../instantiate`` or ``.../apply`` -> ``.../terminate``."""
    head, _, _ = anchor.partition("?")
    return head.rstrip("/").rsplit("/", 1)[0] + "/terminate"


def wants_json_metadata(anchor: str) -> bool:
    """Whether emcoctl's GET sends ``Accept: application/json`` for this anchor."""
    s = anchor.split("/")
    return len(s) >= 3 and s[-2] in _METADATA_COLLECTIONS
