"""Activities for the verified, reversible migration (only this implementation has them).

Snapshot before any write, apply explicit app-intent bodies, verify placement through the
DIG status, and roll the DIG back to the recorded context.
"""

from __future__ import annotations

import logging

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from emco_migrate.emcomigrate.dig_status import STATE_INSTANTIATED, DigStatus
from emco_migrate.emcomigrate.emco_client import ERROR_REJECTED, EmcoClient, path
from emco_migrate.emcomigrate.messages import (
    ApplyRequest,
    RollbackRequest,
    RollbackResult,
    Snapshot,
    SnapshotRequest,
    VerifyRequest,
    VerifyResult,
)
from emco_migrate.emcomigrate.names import (
    ACTIVITY_APPLY_APP_INTENTS,
    ACTIVITY_ROLLBACK,
    ACTIVITY_SNAPSHOT,
    ACTIVITY_VERIFY,
)
from emco_migrate.emcomigrate.plan import is_noop, plan_items, select
from emco_migrate.emcomigrate.types import AppIntent, ClusterRef, MigrationParams, ParamError
from emco_migrate.emcomigrate.verification import verify

log = logging.getLogger(__name__)

ERROR_REFUSED = "MigrationRefused"


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(message, type=ERROR_REFUSED, non_retryable=True)


def _refuse_missing_route(
    err: ApplicationError, service: str, param: str, url: str, node_port: int
) -> None:
    """Refuse clearly when ``url`` is not EMCO's ``service`` at all (an orchestrator, say,
    answers another service's paths with gorilla/mux's bare 404), rather than blaming the
    cluster."""
    details = err.details[0] if err.details and isinstance(err.details[0], dict) else {}
    if details.get("status") == 404 and details.get("body") == "404 page not found":
        raise _refuse(
            f"{url} does not serve EMCO's {service} API (GET {details.get('path')} answered "
            f"'404 page not found'); set the activity parameter {param} to EMCO's {service} "
            f"service, e.g. http://<node>:{node_port}"
        ) from err


class ReversibleMigrationActivities:
    """Snapshot, apply, verify and roll back, over one long-lived HTTP client."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    @activity.defn(name=ACTIVITY_SNAPSHOT)
    async def snapshot(self, request: SnapshotRequest) -> Snapshot:
        """Record the DIG's revision and every selected app intent, check the request can
        be carried out, and plan the new placements. Writes nothing."""
        params = request.params
        emco = EmcoClient(self._http, params.dig.emco_url)
        deployed = DigStatus.parse(await emco.status(params.dig, [("status", "deployed")]))
        if deployed.state != STATE_INSTANTIATED:
            raise _refuse(
                f"DIG {params.dig.dig} is {deployed.state or 'not instantiated'}, "
                "not Instantiated: nothing to migrate"
            )
        logical_cloud = str(
            ((await emco.dig(params.dig)).get("spec") or {}).get("logicalCloud", "")
        )
        await self._check_target(params, logical_cloud)
        intents: list[AppIntent] = []
        for gpi in dict.fromkeys(ref.placement_intent for ref in request.intents):
            wanted = {r.app_intent for r in request.intents if r.placement_intent == gpi}
            intents += [i for i in await emco.app_intents(params.dig, gpi) if i.name in wanted]
        try:
            selected = select(intents, deployed, params)
        except ParamError as err:
            raise _refuse(str(err)) from err
        items = plan_items(selected, deployed, params)
        noop = is_noop(items, params.target)
        note = ""
        if not items:
            note = (
                f"no selected app runs on {params.source}: nothing to migrate"
                if params.source
                else "the DIG has no app intents: nothing to migrate"
            )
        elif noop:
            note = f"every selected app already runs only on {params.target}: nothing to do"
        return Snapshot(
            revision=deployed.revision,
            context=deployed.instance,
            logical_cloud=logical_cloud,
            items=items,
            noop=noop,
            note=note,
        )

    async def _check_target(self, params: MigrationParams, logical_cloud: str) -> None:
        target = params.target
        clm = EmcoClient(self._http, params.clm_url)
        cluster_path = path("v2", "cluster-providers", target.provider, "clusters", target.cluster)
        try:
            await clm.get_json(cluster_path)
        except ApplicationError as err:
            _refuse_missing_route(err, "clm", "clmURL", params.clm_url, 30461)
            if err.type == ERROR_REJECTED:
                raise _refuse(
                    f"target cluster {target} is unknown to EMCO ({err.message})"
                ) from err
            raise
        if not logical_cloud:
            return
        dcm = EmcoClient(self._http, params.dcm_url)
        refs_path = path(
            "v2",
            "projects",
            params.dig.project,
            "logical-clouds",
            logical_cloud,
            "cluster-references",
        )
        try:
            refs = await dcm.get_json(refs_path)
        except ApplicationError as err:
            _refuse_missing_route(err, "dcm", "dcmURL", params.dcm_url, 30477)
            raise
        members = {
            ClusterRef(str(spec.get("clusterProvider", "")), str(spec.get("cluster", "")))
            for ref in refs or []
            if isinstance(ref, dict) and isinstance(spec := ref.get("spec"), dict)
        }
        if target not in members:
            raise _refuse(
                f"target cluster {target} is not in logical cloud {logical_cloud} of DIG "
                f"{params.dig.dig}; add a cluster reference for it first"
            )

    @activity.defn(name=ACTIVITY_APPLY_APP_INTENTS)
    async def apply_app_intents(self, request: ApplyRequest) -> int:
        """PUT each app intent body (create or replace); returns how many were written."""
        emco = EmcoClient(self._http, request.dig.emco_url)
        for write in request.writes:
            spec = write.body.get("spec") or {}
            await emco.put_app_intent(
                request.dig,
                AppIntent(
                    write.placement_intent, write.app_intent, str(spec.get("app", "")), write.body
                ),
            )
            activity.heartbeat(write.app_intent)
        return len(request.writes)

    @activity.defn(name=ACTIVITY_VERIFY)
    async def verify(self, request: VerifyRequest) -> VerifyResult:
        """Wait, heartbeating, until the apps are Ready where expected and gone elsewhere."""
        emco = EmcoClient(self._http, request.dig.emco_url)
        return await verify(emco, request, heartbeat=activity.heartbeat)

    @activity.defn(name=ACTIVITY_ROLLBACK)
    async def rollback(self, request: RollbackRequest) -> RollbackResult:
        """Return the DIG to the recorded context; safe to repeat.

        Uses /rollback when the recorded revision names the recorded context unambiguously.
        EMCO resolves a revision to the *first* log entry carrying it, which after a
        terminate and re-instantiation is an older context; then, as when the revision is
        missing, a forward /update of the (already restored) intents is used instead.
        """
        emco = EmcoClient(self._http, request.dig.emco_url)
        summary = [("status", "deployed"), ("output", "summary")]
        current = DigStatus.parse(await emco.status(request.dig, summary))
        if current.instance == request.context and current.state == STATE_INSTANTIATED:
            method = "none" if current.revision == request.revision else "rollback"
            return RollbackResult(method, current.revision, "the recorded context is current")
        matches = current.instantiated_revisions(request.revision)
        if matches and matches[0].instance == request.context:
            await emco.rollback(request.dig, request.revision, request.reason)
            after = DigStatus.parse(await emco.status(request.dig, summary))
            return RollbackResult("rollback", after.revision)
        revision = await emco.update(request.dig)
        return RollbackResult(
            "update",
            revision,
            f"revision {request.revision} does not name context {request.context} "
            "unambiguously; re-applied the restored intents with /update instead",
        )
