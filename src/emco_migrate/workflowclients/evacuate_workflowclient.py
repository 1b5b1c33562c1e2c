"""The ``evacuate_workflowclient``: EMCO's workflowmgr starts an evacuation through the HTTP
server (``POST /invoke/evacuate_workflowclient``), in the same `WfTemporalSpec` envelope as a
migration; the evacuation's settings are strings in ``activityParams["all-activities"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from emco_migrate.emcomigrate.endpoints import EmcoUrlPolicy, UrlRefused, base_url
from emco_migrate.emcomigrate.evacuation import EvacuationInput, EvacuationRequest
from emco_migrate.emcomigrate.fleet import FleetScope
from emco_migrate.emcomigrate.names import ALL_ACTIVITIES, TASK_QUEUE, WORKFLOW_EVACUATE
from emco_migrate.emcomigrate.param_schema import (
    DEFAULT_WRITE_SETTLE_SECONDS,
    FIELD_PREFIX,
    unknown_key,
)
from emco_migrate.emcomigrate.types import ClusterRef, ParamError
from emco_migrate.wire.temporal import TemporalSpec
from emco_migrate.workflowclients.errors import InvalidSpec, WorkflowAlreadyRunning
from emco_migrate.workflowclients.migrate_workflowclient.client import classify_start_error
from emco_migrate.workflowclients.protocol import StartedWorkflow
from emco_migrate.workflowclients.start_options import StartSettings, start_settings

# Every key this client reads (all strings, as EMCO's activityParams are).
KEYS = (
    "emcoURL", "dcmURL", "clusterProvider", "clusterName", "targetClusterProvider",
    "targetClusterName", "exclude", "priority", "projects", "compositeApps", "digs", "maxInFlight",
    "failureBudget", "strategy", "verifyTimeoutSeconds", "writeSettleSeconds", "startAt",
    "windowEnd", "failbackAt", "dryRun",
)  # fmt: skip


def _list(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _int(params: Mapping[str, str], key: str, default: int) -> int:
    text = params.get(key, "")
    if not text:
        return default
    if not text.isdigit():
        raise ParamError(key, f"{text!r} is not a whole number")
    return int(text)


def _cluster(key: str, text: str) -> ClusterRef:
    provider, _, cluster = text.partition("/")
    if not provider or not cluster:
        raise ParamError(key, f"{text!r} is not PROVIDER/CLUSTER")
    return ClusterRef(provider, cluster)


def evacuation_request(
    activity_params: Mapping[str, Mapping[str, str] | None] | None, policy: EmcoUrlPolicy
) -> EvacuationRequest:
    """The checked request ``activityParams["all-activities"]`` describes; raises
    `ParamError` naming the key."""
    extra = [k for k in (activity_params or {}) if k != ALL_ACTIVITIES]
    if extra:
        raise ParamError(extra[0], f"only {ALL_ACTIVITIES!r} is read")
    params = dict((activity_params or {}).get(ALL_ACTIVITIES) or {})
    for key in params:
        if key not in KEYS:
            raise unknown_key(key, key, KEYS, "parameter")
    for key in ("emcoURL", "clusterProvider", "clusterName"):
        if not params.get(key):
            raise ParamError(key, "is required")
    urls = {"emcoURL": params["emcoURL"], "dcmURL": params.get("dcmURL", "")}
    for key, url in urls.items():
        try:
            urls[key] = base_url(url) if url else ""
            if url:
                policy.check(urls[key])
        except UrlRefused as err:
            raise ParamError(key, str(err)) from None
    has_target = params.get("targetClusterProvider") or params.get("targetClusterName")
    if has_target and not (params.get("targetClusterProvider") and params.get("targetClusterName")):
        raise ParamError("targetClusterName", "give targetClusterProvider and targetClusterName")
    dry_run = params.get("dryRun", "false")
    if dry_run not in ("true", "false"):
        raise ParamError("dryRun", f"{dry_run!r} is not true or false")
    request = EvacuationRequest(
        emco_url=urls["emcoURL"],
        dcm_url=urls["dcmURL"],
        source=ClusterRef(params["clusterProvider"], params["clusterName"]),
        target=(
            ClusterRef(params["targetClusterProvider"], params["targetClusterName"])
            if has_target
            else None
        ),
        exclude=tuple(_cluster("exclude", c) for c in _list(params.get("exclude", ""))),
        priority=_list(params.get("priority", "")),
        scope=FleetScope(
            _list(params.get("projects", "")),
            _list(params.get("compositeApps", "")),
            _list(params.get("digs", "")),
        ),
        max_in_flight=_int(params, "maxInFlight", 10),
        failure_budget=params.get("failureBudget", "10%"),
        strategy=params.get("strategy", "direct"),
        verify_timeout_seconds=_int(params, "verifyTimeoutSeconds", 600),
        write_settle_seconds=_int(params, "writeSettleSeconds", DEFAULT_WRITE_SETTLE_SECONDS),
        dry_run=dry_run == "true",
        start_at=params.get("startAt", ""),
        window_end=params.get("windowEnd", ""),
        failback_at=params.get("failbackAt", ""),
    )
    request.check()
    return request


class EvacuateWorkflowClient:
    """Starts EmcoEvacuateWorkflow from EMCO's WfTemporalSpec."""

    def __init__(
        self, policy: EmcoUrlPolicy | None = None, *, task_queue: str = TASK_QUEUE
    ) -> None:
        self.policy = policy if policy is not None else EmcoUrlPolicy.from_sources(None)
        self.task_queue = task_queue

    def check(self, spec: TemporalSpec) -> tuple[StartSettings, EvacuationRequest]:
        """The start options and the evacuation request; raises `InvalidSpec`."""
        settings = start_settings(replace(spec.start_options, search_attributes=None))
        try:
            request = evacuation_request(spec.params.activity_params, self.policy)
        except ParamError as err:
            field = f"workflowParams.{FIELD_PREFIX}.{err.field}"
            raise InvalidSpec(field, err.reason) from None
        return settings, request

    async def start(self, client: Client, spec: TemporalSpec) -> StartedWorkflow:
        """Start the evacuation; return once Temporal has accepted it."""
        settings, request = self.check(spec)
        try:
            handle = await client.start_workflow(
                WORKFLOW_EVACUATE,
                EvacuationInput(request),
                task_queue=self.task_queue,
                **settings.kwargs(),
            )
        except WorkflowAlreadyStartedError as err:
            raise WorkflowAlreadyRunning(settings.id) from err
        except (RPCError, RuntimeError) as err:
            classified = classify_start_error(err)
            if classified is None:
                raise
            raise classified from err
        return StartedWorkflow(settings.id, handle.result_run_id or handle.run_id or "")
