"""A deliberately incompatible EmcoMigrateWorkflow: it starts a timer before its first activity.

Its own module so the replayer's sandbox imports it without the test module (and pytest).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from emco_migrate.emcomigrate.names import WORKFLOW_NAME
    from emco_migrate.emcomigrate.workflows import EmcoMigrateWorkflow


@workflow.defn(name=WORKFLOW_NAME)
class TimerFirstWorkflow(EmcoMigrateWorkflow):
    """The released workflow with a new first command: what an unguarded change looks like."""

    @workflow.run
    async def run(self, value: RawValue = None) -> RawValue:  # type: ignore[assignment]
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(value)
