"""Starts EmcoMigrateWorkflow from EMCO's WfTemporalSpec, as the Go migrate client does."""

from __future__ import annotations

import logging
from dataclasses import replace

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from emco_migrate.emcomigrate.dig_lock import lock_id
from emco_migrate.emcomigrate.endpoints import EmcoUrlPolicy, UrlRefused
from emco_migrate.emcomigrate.names import ALL_ACTIVITY_NAMES, TASK_QUEUE, WORKFLOW_NAME
from emco_migrate.emcomigrate.options import resolve_activity_options
from emco_migrate.emcomigrate.param_schema import FIELD_PREFIX
from emco_migrate.emcomigrate.types import MigrationParams, ParamError
from emco_migrate.errors import UserError
from emco_migrate.wire.options import OptionsError
from emco_migrate.wire.temporal import TemporalSpec, WorkflowParamsSpec, workflow_input
from emco_migrate.workflowclients.errors import (
    InvalidSpec,
    WorkflowAlreadyRunning,
    WorkflowStartRefused,
    as_unreachable,
)
from emco_migrate.workflowclients.protocol import StartedWorkflow
from emco_migrate.workflowclients.start_options import (
    StartSettings,
    registered_search_attributes,
    start_settings,
)

log = logging.getLogger(__name__)

_RUNNING = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING


class MigrateWorkflowClient:
    """The ``migrate_workflowclient``: validates the spec and starts the workflow by name.

    Unlike the Go client it requires ``workflowStartOptions.ID`` (a random ID could never
    be queried or cancelled through EMCO), it always uses the deployment's migration task
    queue ``task_queue`` (default: MIGRATION_TASK_Q), and it refuses, before anything
    starts, parameters and activity options the workflow would refuse and EMCO URLs outside
    ``policy`` (default: ``EMCO_MIGRATE_ALLOW_EMCO_URLS``).
    """

    def __init__(
        self, policy: EmcoUrlPolicy | None = None, *, task_queue: str = TASK_QUEUE
    ) -> None:
        self.policy = policy if policy is not None else EmcoUrlPolicy.from_sources(None)
        self.task_queue = task_queue

    async def start(self, client: Client, spec: TemporalSpec) -> StartedWorkflow:
        """Start EmcoMigrateWorkflow; return once Temporal has accepted it."""
        settings, migration = self._checked(spec)
        if spec.start_options.search_attributes:
            types = await registered_search_attributes(client)
            settings = start_settings(spec.start_options, types)
        options = spec.start_options
        if options.task_queue and options.task_queue not in (TASK_QUEUE, self.task_queue):
            log.warning(
                "workflowStartOptions.TaskQueue %r ignored: the migrate workflow runs on %s",
                options.task_queue[:80],
                self.task_queue,
            )
        await refuse_if_dig_locked(client, migration, settings.id)
        try:
            handle = await client.start_workflow(
                WORKFLOW_NAME,
                workflow_input(spec.params),
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
        return StartedWorkflow(
            workflow_id=settings.id, run_id=handle.result_run_id or handle.run_id or ""
        )

    def check(self, spec: TemporalSpec) -> StartSettings:
        """Validate the spec without Temporal (search attributes are typed only at start):
        the start options, the workflow's parameters and activity options as the workflow
        will read them, and the EMCO URLs against the allowlist."""
        return self._checked(spec)[0]

    def _checked(self, spec: TemporalSpec) -> tuple[StartSettings, MigrationParams]:
        # The parameters are read once per start: the DIG lock check uses them too.
        settings = start_settings(replace(spec.start_options, search_attributes=None))
        return settings, check_workflow_params(spec.params, self.policy, self.task_queue)


def check_workflow_params(
    params: WorkflowParamsSpec, policy: EmcoUrlPolicy, task_queue: str = TASK_QUEUE
) -> MigrationParams:
    """The migration parameters, checked as the workflow checks them on ``task_queue``;
    raises `InvalidSpec` naming the field."""
    prefix = "workflowParams."
    try:
        resolve_activity_options(
            params.activity_options, ALL_ACTIVITY_NAMES, strict=True, run_queue=task_queue
        )
        migration = MigrationParams.from_activity_params(params.activity_params)
    except (OptionsError, ParamError) as err:
        raise InvalidSpec(prefix + err.field, err.reason) from None
    for name, url in migration.urls.items():
        try:
            policy.check(url)
        except UrlRefused as err:
            raise InvalidSpec(f"{prefix}{FIELD_PREFIX}.{name}", str(err)) from None
    return migration


class DigBeingMigrated(WorkflowAlreadyRunning):
    """Another open run migrates the same DIG (it holds the DIG's lock)."""

    def __init__(self, workflow_id: str, dig: str, holder: str) -> None:
        UserError.__init__(
            self,
            f"DIG {dig} is already being migrated by workflow {holder!r}; not starting "
            f"{workflow_id!r} (wait for that run to end, or cancel it)",
        )
        self.workflow_id = workflow_id
        self.holder = holder


async def refuse_if_dig_locked(client: Client, params: MigrationParams, workflow_id: str) -> None:
    """Raise `DigBeingMigrated` when a running migration holds the DIG's lock.

    The workflow takes the lock itself (two starts at the same instant are told apart
    there); this only lets the caller hear the refusal at once. ``params`` are the
    checked parameters of the start (`check_workflow_params`).
    """
    if params.dry_run:
        return
    try:
        lock = await _describe(client, lock_id(params.dig))
        if lock.status != _RUNNING or not lock.parent_execution.workflow_id:
            return
        holder = await _describe(client, lock.parent_execution.workflow_id)
    except (RPCError, RuntimeError) as err:
        if isinstance(err, RPCError) and err.status is RPCStatusCode.NOT_FOUND:
            return
        raise classify_start_error(err) or err from None
    if holder.status == _RUNNING and holder.execution.workflow_id != workflow_id:
        raise DigBeingMigrated(workflow_id, params.dig.dig, holder.execution.workflow_id)


async def _describe(client: Client, workflow_id: str) -> WorkflowExecutionInfo:
    # The raw answer, not `WorkflowHandle.describe`: only the status and the parent are read,
    # and the SDK's description also converts every timestamp and decodes the search
    # attributes, ~40 us of CPU for each lock found (measured). A DIG migrated before has
    # one (closed) until Temporal's retention removes it.
    response = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
        ),
        retry=True,
    )
    return response.workflow_execution_info


def classify_start_error(err: RPCError | RuntimeError) -> Exception | None:
    """Temporal's refusal of a start as our error (unreachable, invalid), or None."""
    if (unreachable := as_unreachable(err)) is not None:
        return unreachable
    if isinstance(err, RPCError) and err.status is RPCStatusCode.INVALID_ARGUMENT:
        return InvalidSpec(None, f"Temporal refused the start options: {err.message}")
    if isinstance(err, RPCError):
        return WorkflowStartRefused(f"Temporal refused to start the workflow: {err.message}")
    return None
