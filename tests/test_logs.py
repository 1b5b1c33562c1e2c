"""Log lines: the run's IDs as fields, one line per retried attempt, JSON that parses."""

from __future__ import annotations

import json
import logging
import sys

from emco_migrate import logs
from emco_migrate.emcomigrate.types import DigRef
from emco_migrate.logs import JsonLineFormatter, TextFormatter

ATTEMPT = {
    "activity_id": "4",
    "activity_type": "DoDigUpdate",
    "attempt": 2,
    "namespace": "default",
    "task_queue": "MIGRATION_TASK_Q",
    "workflow_id": "migrate-dig1",
    "workflow_run_id": "run-1",
    "workflow_type": "EmcoMigrateWorkflow",
}


def record(
    name: str = "temporalio.activity", *, failed: bool = True, **extra: object
) -> logging.LogRecord:
    exc_info = None
    if failed:
        try:
            raise RuntimeError("EMCO answered 503 to POST /update")
        except RuntimeError:
            exc_info = sys.exc_info()
    made = logging.LogRecord(name, logging.WARNING, __file__, 1, "Completing %s", ("x",), exc_info)
    made.__dict__.update(extra)
    return made


def test_a_text_line_names_the_run_and_folds_the_traceback() -> None:
    line = TextFormatter(tracebacks=False).format(record(temporal_activity=ATTEMPT))
    assert "\n" not in line
    assert line.endswith(
        "WARNING temporalio.activity: Completing x: RuntimeError: EMCO answered 503 to POST "
        "/update [workflow=migrate-dig1 run=run-1 activity=DoDigUpdate attempt=2]"
    )


def test_at_debug_the_traceback_is_kept() -> None:
    text = TextFormatter(tracebacks=True).format(record(temporal_activity=ATTEMPT))
    assert "Traceback (most recent call last)" in text


def test_our_own_tracebacks_are_never_folded() -> None:
    text = TextFormatter(tracebacks=False).format(record("emco_migrate.worker"))
    assert "Traceback (most recent call last)" in text


def test_a_json_line_has_the_fields_and_no_sdk_internals() -> None:
    line = JsonLineFormatter(tracebacks=False).format(
        record(temporal_activity=ATTEMPT, __temporal_error_identifier="ActivityFailure")
    )
    parsed = json.loads(line)
    assert parsed["level"] == "WARNING"
    assert parsed["logger"] == "temporalio.activity"
    assert parsed["message"] == "Completing x: RuntimeError: EMCO answered 503 to POST /update"
    assert (parsed["workflowId"], parsed["runId"]) == ("migrate-dig1", "run-1")
    assert (parsed["activity"], parsed["attempt"]) == ("DoDigUpdate", 2)
    assert "time" in parsed
    assert not {"exc_info", "temporal_activity", "__temporal_error_identifier"} & set(parsed)


def test_a_workflow_line_names_its_run_and_type() -> None:
    flow = {"workflow_id": "w", "run_id": "r", "workflow_type": "EmcoEvacuateWorkflow"}
    made = record("temporalio.workflow", failed=False, temporal_workflow=flow)
    parsed = json.loads(JsonLineFormatter(tracebacks=False).format(made))
    assert (parsed["workflowId"], parsed["runId"], parsed["workflowType"]) == (
        "w",
        "r",
        "EmcoEvacuateWorkflow",
    )
    assert (
        TextFormatter(tracebacks=False)
        .format(made)
        .endswith("[workflow=w run=r type=EmcoEvacuateWorkflow]")
    )


def test_a_line_without_a_run_has_no_brackets() -> None:
    made = record("emco_migrate.worker", failed=False)
    assert (
        TextFormatter(tracebacks=False).format(made).endswith("emco_migrate.worker: Completing x")
    )
    assert "workflowId" not in json.loads(JsonLineFormatter(tracebacks=False).format(made))


DIG = DigRef("http://emco:9015", "proj1", "hello-capp", "v1", "hello-dig")
DIG_FIELDS = {
    "project": "proj1",
    "compositeApp": "hello-capp",
    "compositeAppVersion": "v1",
    "dig": "hello-dig",
}


def test_a_workflow_line_names_the_dig_it_was_given() -> None:
    flow = {"workflow_id": "w", "run_id": "r", "workflow_type": "EmcoMigrateWorkflow"}
    made = record(
        "temporalio.workflow",
        failed=False,
        temporal_workflow=flow,
        **{logs.DIG_EXTRA: logs.dig_fields(DIG)},
    )
    parsed = json.loads(JsonLineFormatter(tracebacks=False).format(made))
    assert {k: parsed[k] for k in DIG_FIELDS} == DIG_FIELDS
    assert logs.DIG_EXTRA not in parsed
    assert (
        TextFormatter(tracebacks=False)
        .format(made)
        .endswith("[workflow=w run=r type=EmcoMigrateWorkflow dig=proj1/hello-capp/v1/hello-dig]")
    )


async def test_an_activity_line_names_the_dig_its_request_bound() -> None:
    from temporalio.testing import ActivityEnvironment

    async def an_activity() -> str:
        logs.bind_dig(DIG)
        made = record("emco_migrate.emcomigrate.activities", failed=False)
        return JsonLineFormatter(tracebacks=False).format(made)

    parsed = json.loads(await ActivityEnvironment().run(an_activity))
    assert {k: parsed[k] for k in DIG_FIELDS} == DIG_FIELDS
    assert parsed["activity"] == "unknown"  # ActivityEnvironment's default activity type
