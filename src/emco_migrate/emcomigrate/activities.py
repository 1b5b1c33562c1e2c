"""The migrate workflow's activities: all EMCO I/O happens here.

The three Go-named activities take and return the Go reference's `MigParam` JSON
(`wire.temporal.MigParam`), so Go and Python workers can share the task queue.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import httpx
from temporalio import activity
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from emco_migrate import logs
from emco_migrate.emcomigrate.attempts import EmcoAccess, heartbeating, settle_before_deciding
from emco_migrate.emcomigrate.emco_client import EmcoClient
from emco_migrate.emcomigrate.endpoints import EmcoUrlPolicy
from emco_migrate.emcomigrate.error_types import ErrorType
from emco_migrate.emcomigrate.guards import earlier_update
from emco_migrate.emcomigrate.names import (
    ACTIVITY_DO_DIG_UPDATE,
    ACTIVITY_GET_DIG_APP_INTENTS,
    ACTIVITY_UPDATE_APP_INTENTS,
    ALL_ACTIVITIES,
)
from emco_migrate.emcomigrate.read_cache import RunReads
from emco_migrate.emcomigrate.types import (
    AppIntent,
    MigrationParams,
    ParamError,
    single_cluster_intent,
)
from emco_migrate.wire.gojson import FieldError
from emco_migrate.wire.temporal import AppIntentRef, MigParam

log = logging.getLogger(__name__)


# MigParam extension keys (Go workers ignore them): the revision /update returned, and
# the revision a /update must start from (the idempotency guard of DoDigUpdate).
KEY_NEW_REVISION = "NewRevision"
KEY_BASE_REVISION = "BaseRevision"
# The attempt that completed a writing step: 1 means no earlier attempt's request can still
# reach EMCO late.
KEY_ATTEMPT = "Attempt"


def encode_payload(param: MigParam) -> RawValue:
    """A MigParam as the json/plain payload Go's data converter would write."""
    return RawValue(Payload(metadata={"encoding": b"json/plain"}, data=param.to_json()))


def decode_payload(value: RawValue) -> MigParam:
    """A json/plain MigParam payload; bad input fails the activity without retries."""
    encoding = value.payload.metadata.get("encoding", b"").decode(errors="replace")
    if encoding != "json/plain":
        raise ApplicationError(
            f"expected a json/plain MigParam payload, got encoding {encoding!r}",
            type=ErrorType.INVALID_INPUT,
            non_retryable=True,
        )
    try:
        return MigParam.from_json(value.payload.data)
    except FieldError as err:
        raise ApplicationError(
            f"invalid MigParam: {err}", type=ErrorType.INVALID_INPUT, non_retryable=True
        ) from err


def migration_params(param: MigParam) -> MigrationParams:
    """The typed migration request carried in MigParam.InParams."""
    try:
        # The workflow checked every key (runs started before the schema may carry keys
        # it did not know); the values are read and checked again here.
        return MigrationParams.from_activity_params({ALL_ACTIVITIES: param.in_params}, strict=False)
    except ParamError as err:
        raise ApplicationError(
            f"invalid MigParam.InParams: {err}", type=ErrorType.INVALID_INPUT, non_retryable=True
        ) from err


def placement_intents_url(params: MigrationParams) -> str:
    """The URL string the Go reference stores in GenericPlacementIntentURL."""
    d = params.dig
    return (
        f"{d.emco_url}/v2/projects/{d.project}/composite-apps/{d.composite_app}/{d.version}"
        f"/deployment-intent-groups/{d.dig}/generic-placement-intents"
    )


class MigrationActivities:
    """Activities sharing one long-lived HTTP client to EMCO."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        policy: EmcoUrlPolicy | None = None,
        reads: RunReads | None = None,
    ) -> None:
        self._emco_access = EmcoAccess(http, policy)
        self._reads = reads or RunReads()

    def _emco(self, params: MigrationParams) -> EmcoClient:
        return self._emco_access.client(params.dig.emco_url)

    @activity.defn(name=ACTIVITY_GET_DIG_APP_INTENTS)
    async def get_dig_app_intents(self, value: RawValue) -> RawValue:
        """Record the DIG's placement intents and, for each, its (app, app intent) pairs."""
        param = decode_payload(value)
        params = migration_params(param)
        logs.bind_dig(params.dig)
        emco = self._emco(params)
        pairs: dict[str, tuple[AppIntentRef, ...] | None] = {}
        async with heartbeating("reading"):
            for gpi in await emco.placement_intents(params.dig):
                intents = await emco.app_intents(params.dig, gpi)
                self._reads.keep(gpi, intents)
                pairs[gpi] = tuple(AppIntentRef(i.app, i.name) for i in intents)
        found = "; ".join(
            f"{gpi}: " + (", ".join(f"{r.intent} (app {r.app})" for r in refs or ()) or "none")
            for gpi, refs in pairs.items()
        )
        log.info("DIG %s has app intents %s", params.dig.dig, found or "none")
        return encode_payload(
            replace(param, placement_intents_url=placement_intents_url(params), app_intents=pairs)
        )

    @activity.defn(name=ACTIVITY_UPDATE_APP_INTENTS)
    async def update_app_intents(self, value: RawValue) -> RawValue:
        """Point every recorded app intent at the target cluster (allOf the target).

        Each intent is read first so its name, app and metadata are kept (on a first
        attempt, as this run's snapshot read it moments ago in this worker, if it did). PUT
        replaces the intent, so a retry after a partial failure is harmless.
        """
        param = decode_payload(value)
        params = migration_params(param)
        logs.bind_dig(params.dig)
        emco = self._emco(params)
        target_intent = single_cluster_intent(params.target)
        async with heartbeating("reading") as beat:
            for gpi, refs in sorted((param.app_intents or {}).items()):
                if not refs:
                    continue
                read = self._reads.app_intents(gpi)
                if read is None:
                    read = tuple(await emco.app_intents(params.dig, gpi))
                current = {i.name: i for i in read}
                for ref in refs:
                    beat(ref.intent)
                    intent = current.get(ref.intent) or AppIntent.new(gpi, ref.intent, ref.app)
                    await emco.put_app_intent(params.dig, intent.with_intent(target_intent))
        attempt = activity.info().attempt
        return encode_payload(replace(param, extensions={**param.extensions, KEY_ATTEMPT: attempt}))

    @activity.defn(name=ACTIVITY_DO_DIG_UPDATE)
    async def do_dig_update(self, value: RawValue) -> RawValue:
        """Ask EMCO to apply the changed intents (POST /update, 202 + new revision).

        Exactly-once guard, when the workflow passed ``BaseRevision``: the DIG must be at
        that revision before the POST (on a first attempt, this run's snapshot reading it
        there in this worker moments ago, `RunReads.revision`, is that check; otherwise
        the DIG is read). A retry first waits until an earlier attempt's POST
        can no longer reach EMCO (``writeSettleSeconds``), then a DIG at ``BaseRevision + 1``
        is that earlier POST, accepted (the worker may have died before reporting it, or
        the request arrived after the attempt gave up): no second /update is posted. Any
        other revision is another writer's, and the step fails without posting.
        """
        param = decode_payload(value)
        params = migration_params(param)
        logs.bind_dig(params.dig)
        emco = self._emco_access.client(params.dig.emco_url, reserved=params.write_settle_seconds)
        base = param.extensions.get(KEY_BASE_REVISION)
        revision = None
        if isinstance(base, int) and not isinstance(base, bool) and self._reads.revision() != base:
            await settle_before_deciding(params.write_settle_seconds)
            async with heartbeating("reading"):
                current = await emco.summary(params.dig)
            revision = earlier_update(
                current, base, retry=activity.info().attempt > 1, dig=params.dig.dig
            )
            if revision is not None:
                log.warning(
                    "DIG %s is already at revision %d (base %d): an earlier attempt's /update "
                    "was accepted; not posting another",
                    params.dig.dig,
                    revision,
                    base,
                )
        if revision is None:
            async with heartbeating("posting /update"):
                revision = await emco.update(params.dig)
        log.info("DIG %s updated to revision %d", params.dig.dig, revision)
        extensions = {
            **param.extensions,
            KEY_NEW_REVISION: revision,
            KEY_ATTEMPT: activity.info().attempt,
        }
        return encode_payload(replace(param, extensions=extensions))
