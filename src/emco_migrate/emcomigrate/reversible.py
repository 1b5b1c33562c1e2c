"""Activities for the verified, reversible migration (only this implementation has them).

Snapshot before any write, apply explicit app-intent bodies, verify placement through the
DIG status, and roll the DIG back to the recorded context.
"""

from __future__ import annotations

import contextlib
import logging

import httpx
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from emco_migrate import logs
from emco_migrate.emcomigrate.attempts import EmcoAccess, heartbeating, settle_before_deciding
from emco_migrate.emcomigrate.dig_lock import lock_dig
from emco_migrate.emcomigrate.dig_status import DigStatus
from emco_migrate.emcomigrate.emco_client import EmcoClient, Endpoint, path
from emco_migrate.emcomigrate.endpoints import EmcoUrlPolicy
from emco_migrate.emcomigrate.error_types import ErrorType
from emco_migrate.emcomigrate.guards import (
    changed_by_others,
    foreign_placement,
    refuse_unless_left,
    same_placement,
)
from emco_migrate.emcomigrate.messages import (
    ApplyRequest,
    ConfirmRequest,
    ConfirmResult,
    IntentWrite,
    LockHolder,
    RollbackMethod,
    RollbackRequest,
    RollbackResult,
    Snapshot,
    SnapshotRequest,
    VerifyRequest,
    VerifyResult,
)
from emco_migrate.emcomigrate.names import (
    ACTIVITY_APPLY_APP_INTENTS,
    ACTIVITY_CONFIRM_RESTORED,
    ACTIVITY_DESCRIBE_DIG_LOCK,
    ACTIVITY_ROLLBACK,
    ACTIVITY_SNAPSHOT,
    ACTIVITY_VERIFY,
)
from emco_migrate.emcomigrate.plan import is_noop, plan_items, select
from emco_migrate.emcomigrate.read_cache import RunReads, TargetChecks
from emco_migrate.emcomigrate.types import (
    AppIntent,
    ClusterRef,
    DigRef,
    MigrationParams,
    ParamError,
)
from emco_migrate.emcomigrate.verification import verify
from emco_migrate.wire.emco import DigState, PlacementIntent
from emco_migrate.wire.gojson import FieldError

log = logging.getLogger(__name__)


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(message, type=ErrorType.REFUSED, non_retryable=True)


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

    def __init__(
        self,
        http: httpx.AsyncClient,
        policy: EmcoUrlPolicy | None = None,
        reads: RunReads | None = None,
        targets: TargetChecks | None = None,
    ) -> None:
        self._emco_access = EmcoAccess(http, policy)
        self._reads = reads or RunReads()
        self._targets = targets or TargetChecks()

    @activity.defn(name=ACTIVITY_SNAPSHOT)
    async def snapshot(self, request: SnapshotRequest) -> Snapshot:
        """Record the DIG's revision and every selected app intent, check the request can
        be carried out, and plan the new placements. Writes nothing.

        Heartbeats throughout: with hundreds of migrations starting together its reads may
        wait their turn for an EMCO connection longer than the heartbeat timeout.
        """
        logs.bind_dig(request.params.dig)
        async with heartbeating("reading"):
            return await self._snapshot(request)

    async def _snapshot(self, request: SnapshotRequest) -> Snapshot:
        params = request.params
        emco = self._emco_access.client(params.dig.emco_url)
        deployed = DigStatus.parse(await emco.status(params.dig, [("status", "deployed")]))
        if deployed.state != DigState.INSTANTIATED:
            raise _refuse(
                f"DIG {params.dig.dig} is {deployed.state or 'not instantiated'}, "
                "not Instantiated: nothing to migrate"
            )
        self._reads.keep_revision(deployed.revision)
        logical_cloud = (await emco.dig(params.dig)).spec.logical_cloud
        await self._check_target(params, logical_cloud)
        intents: list[AppIntent] = []
        for gpi in dict.fromkeys(ref.placement_intent for ref in request.intents):
            wanted = {r.app_intent for r in request.intents if r.placement_intent == gpi}
            read = self._reads.app_intents(gpi)  # as GetDigAppIntents read it just now
            if read is None:
                read = tuple(await emco.app_intents(params.dig, gpi))
            self._reads.keep(gpi, read)
            intents += [i for i in read if i.name in wanted]
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
        """Refuse a target EMCO does not know or the DIG's logical cloud does not hold
        (a recent answer that it does, `TargetChecks`, is not asked again)."""
        target = params.target
        targets = self._targets
        if not targets.cluster_known(params.clm_url, str(target)):
            await self._check_cluster(params)
            targets.keep_cluster(params.clm_url, str(target))
        if not logical_cloud:
            return
        known = targets.members(params.dcm_url, params.dig.project, logical_cloud)
        if known is not None and str(target) in known:
            return
        members = await self._logical_cloud_members(params, logical_cloud)
        if target not in members:
            raise _refuse(
                f"target cluster {target} is not in logical cloud {logical_cloud} of DIG "
                f"{params.dig.dig}; add a cluster reference for it first"
            )
        targets.keep_members(
            params.dcm_url, params.dig.project, logical_cloud, frozenset(map(str, members))
        )

    async def _check_cluster(self, params: MigrationParams) -> None:
        target = params.target
        clm = self._emco_access.client(params.clm_url)
        cluster_path = path("v2", "cluster-providers", target.provider, "clusters", target.cluster)
        try:
            await clm.get_json(cluster_path, endpoint=Endpoint.CLUSTER)
        except ApplicationError as err:
            _refuse_missing_route(err, "clm", "clmURL", params.clm_url, 30461)
            if err.type == ErrorType.REJECTED:
                raise _refuse(
                    f"target cluster {target} is unknown to EMCO ({err.message})"
                ) from err
            raise

    async def _logical_cloud_members(
        self, params: MigrationParams, logical_cloud: str
    ) -> set[ClusterRef]:
        dcm = self._emco_access.client(params.dcm_url)
        refs_path = path(
            "v2",
            "projects",
            params.dig.project,
            "logical-clouds",
            logical_cloud,
            "cluster-references",
        )
        try:
            refs = await dcm.get_json(refs_path, endpoint=Endpoint.CLUSTER_REFERENCES)
        except ApplicationError as err:
            _refuse_missing_route(err, "dcm", "dcmURL", params.dcm_url, 30477)
            raise
        return {
            ClusterRef(str(spec.get("clusterProvider", "")), str(spec.get("cluster", "")))
            for ref in refs or []
            if isinstance(ref, dict) and isinstance(spec := ref.get("spec"), dict)
        }

    @activity.defn(name=ACTIVITY_APPLY_APP_INTENTS)
    async def apply_app_intents(self, request: ApplyRequest) -> int:
        """PUT each app intent body (create or replace); returns how many were written.

        When the request says what this run left there (``revisions``, ``expect``), EMCO is
        read first and nothing is written if another writer changed the DIG since.
        """
        logs.bind_dig(request.dig)
        emco = self._emco_access.client(request.dig.emco_url)
        async with heartbeating("checking"):
            await _check_ours(emco, request.dig, request.writes, request.revisions)
        for write in request.writes:
            async with heartbeating(write.app_intent):
                await emco.put_app_intent(request.dig, _intent(write))
        return len(request.writes)

    @activity.defn(name=ACTIVITY_CONFIRM_RESTORED)
    async def confirm_restored(self, request: ConfirmRequest) -> ConfirmResult:
        """Read the app intents and revision back after a compensation: equal to the
        snapshot, or made so again where a write of ours reached EMCO late. Another
        writer's change is reported, not overwritten."""
        logs.bind_dig(request.dig)
        emco = self._emco_access.client(request.dig.emco_url)
        async with heartbeating("confirming"):
            current = await emco.summary(request.dig)
            refuse_unless_left(
                current, (request.revision,), dig=request.dig.dig, action="not confirming"
            )
            found = await _current_placements(emco, request.dig, request.restores)
            late = []
            for write in request.restores:
                restore = _intent(write)
                now = found.get((write.placement_intent, write.app_intent))
                problem = foreign_placement(
                    write.app_intent, now, (restore.intent, *(write.expect or ()))
                )
                if problem:
                    found_json = now.encode() if now else None
                    raise changed_by_others(problem, appIntent=write.app_intent, found=found_json)
                if not same_placement(now, restore.intent):
                    late.append(restore)
            for restore in late:
                log.warning(
                    "app intent %s changed again after the restore (a late write of this run); "
                    "restoring it once more",
                    restore.name,
                )
                await emco.put_app_intent(request.dig, restore)
        return ConfirmResult(tuple(r.name for r in late), current.revision)

    @activity.defn(name=ACTIVITY_DESCRIBE_DIG_LOCK)
    async def describe_dig_lock(self, lock_id: str) -> LockHolder:
        """Who holds a DIG's lock. A lock whose holder has ended (terminated, say, before
        the parent close policy reached the lock) is stale: it is ended here, and the
        caller may take the lock."""
        if (dig := lock_dig(lock_id)) is not None:
            logs.bind_dig(dig)
        client = activity.client()
        lock = client.get_workflow_handle(lock_id)
        try:
            holder = (await lock.describe()).parent_id or ""
            if not holder:
                return LockHolder("", running=True)
            status = (await client.get_workflow_handle(holder).describe()).status
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return LockHolder("", running=False)
            raise ApplicationError(
                f"cannot read DIG lock {lock_id}: {err.message}", type="TemporalUnavailable"
            ) from None
        if status == WorkflowExecutionStatus.RUNNING:
            return LockHolder(holder, running=True)
        log.warning("DIG lock %s outlived its holder %s (%s); ending it", lock_id, holder, status)
        with contextlib.suppress(RPCError):
            await lock.terminate(f"holder {holder} ended")
        return LockHolder(holder, running=False)

    @activity.defn(name=ACTIVITY_VERIFY)
    async def verify(self, request: VerifyRequest) -> VerifyResult:
        """Wait, heartbeating, until the apps are Ready where expected and gone elsewhere."""
        logs.bind_dig(request.dig)
        emco = self._emco_access.client(request.dig.emco_url)
        async with heartbeating({"polls": 0, "waitingFor": []}) as beat:
            return await verify(emco, request, heartbeat=beat)

    @activity.defn(name=ACTIVITY_ROLLBACK)
    async def rollback(self, request: RollbackRequest) -> RollbackResult:
        """Return the DIG to the recorded context; safe to repeat.

        Uses /rollback when the recorded revision names the recorded context unambiguously.
        EMCO resolves a revision to the *first* log entry carrying it, which after a
        terminate and re-instantiation is an older context; then, as when the revision is
        missing, a forward /update of the (already restored) intents is used instead.

        A retry first waits until an earlier attempt's POST can no longer reach EMCO, then
        decides from the DIG's log: the recorded context current again, or one revision past
        what this run left, is that earlier POST, not a reason to post again.
        """
        logs.bind_dig(request.dig)
        emco = self._emco_access.client(request.dig.emco_url, reserved=request.settle_seconds)
        retry = activity.info().attempt > 1
        await settle_before_deciding(request.settle_seconds)
        async with heartbeating("reading"):
            current = await emco.summary(request.dig)
        if current.instance == request.context and current.state == DigState.INSTANTIATED:
            method = (
                RollbackMethod.NONE
                if current.revision == request.revision
                else RollbackMethod.ROLLBACK
            )
            return RollbackResult(method, current.revision, "the recorded context is current")
        left = request.left_revisions
        if left and current.revision not in left:
            if retry and current.revision - 1 in left and current.state == DigState.INSTANTIATED:
                return RollbackResult(
                    RollbackMethod.UPDATE,
                    current.revision,
                    "an earlier attempt's /update of the restored intents was accepted",
                )
            refuse_unless_left(current, left, dig=request.dig.dig, action="not rolling back")
        matches = current.instantiated_revisions(request.revision)
        if matches and matches[0].instance == request.context:
            async with heartbeating("posting /rollback"):
                await emco.rollback(request.dig, request.revision, request.reason)
                after = await emco.summary(request.dig)
            return RollbackResult(RollbackMethod.ROLLBACK, after.revision)
        async with heartbeating("posting /update"):
            revision = await emco.update(request.dig)
        return RollbackResult(
            RollbackMethod.UPDATE,
            revision,
            f"revision {request.revision} does not name context {request.context} "
            "unambiguously; re-applied the restored intents with /update instead",
        )


def _intent(write: IntentWrite) -> AppIntent:
    """The app intent a write PUTs: its recorded body, decoded (unknown keys kept)."""
    try:
        return AppIntent.from_body(write.placement_intent, write.app_intent, write.body)
    except FieldError as err:
        raise ApplicationError(
            f"invalid body for app intent {write.app_intent}: {err}",
            type=ErrorType.INVALID_INPUT,
            non_retryable=True,
        ) from None


async def _current_placements(
    emco: EmcoClient, dig: DigRef, writes: tuple[IntentWrite, ...]
) -> dict[tuple[str, str], PlacementIntent]:
    """(placement intent, app intent) -> the ``spec.intent`` EMCO holds (absent: missing)."""
    found: dict[tuple[str, str], PlacementIntent] = {}
    for gpi in dict.fromkeys(w.placement_intent for w in writes):
        for intent in await emco.app_intents(dig, gpi):
            found[(gpi, intent.name)] = intent.intent
    return found


async def _check_ours(
    emco: EmcoClient, dig: DigRef, writes: tuple[IntentWrite, ...], revisions: tuple[int, ...]
) -> None:
    """Refuse (`ChangedByOthers`) when the DIG is not as this run left it."""
    if revisions:
        refuse_unless_left(
            await emco.summary(dig), revisions, dig=dig.dig, action="not writing the app intents"
        )
    checked = [w for w in writes if w.expect is not None]
    if not checked:
        return
    found = await _current_placements(emco, dig, tuple(checked))
    problems = [
        problem
        for w in checked
        if (
            problem := foreign_placement(
                w.app_intent, found.get((w.placement_intent, w.app_intent)), w.expect or ()
            )
        )
    ]
    if problems:
        raise changed_by_others("; ".join(problems))
