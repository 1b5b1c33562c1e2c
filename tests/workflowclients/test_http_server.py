"""The HTTP server EMCO calls, through the real app against a real Temporal dev server."""

from __future__ import annotations

import argparse
import asyncio
import signal
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from emco_migrate import cli
from emco_migrate.devstack.processes import free_port
from emco_migrate.emcomigrate.endpoints import EmcoUrlPolicy
from emco_migrate.wire.temporal import TemporalSpec
from emco_migrate.workflowclients.http_server import main as http_server_main
from emco_migrate.workflowclients.migrate_workflowclient.client import MigrateWorkflowClient
from emco_migrate.workflowclients.registry import StartedWorkflow, WorkflowClientRegistry
from support.waiting import wait_for

from .conftest import AppFactory
from .helpers import (
    INVOKE_BODY,
    VECTOR_WORKFLOW_ID,
    WORKFLOW_INPUT,
    Workflows,
    spec_body,
    started_event_input,
    status_of,
)

pytestmark = pytest.mark.integration

INVOKE = "/invoke/migrate_workflowclient"


async def test_invoke_vector_is_accepted_byte_for_byte(
    http_app: AppFactory, temporal_client: Client, workflows: Workflows
) -> None:
    workflows.track(VECTOR_WORKFLOW_ID)
    http = await http_app()

    response = await http.post(
        INVOKE, content=INVOKE_BODY, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 204
    assert response.content == b""
    assert await status_of(temporal_client, VECTOR_WORKFLOW_ID) is WorkflowExecutionStatus.RUNNING
    payload = await started_event_input(temporal_client, VECTOR_WORKFLOW_ID)
    assert payload.data == WORKFLOW_INPUT


async def test_invoke_starts_on_the_configured_task_queue(
    http_app: AppFactory, temporal_client: Client, workflows: Workflows, task_queue: str
) -> None:
    # The body says MIGRATION_TASK_Q, as EMCO's does: the deployment's queue is used.
    workflow_id = workflows.new_id()
    http = await http_app()

    response = await http.post(INVOKE, content=spec_body(workflow_id))

    assert response.status_code == 204, response.text
    description = await temporal_client.get_workflow_handle(workflow_id).describe()
    assert description.task_queue == task_queue


@pytest.mark.parametrize(
    ("args", "environ", "expected"),
    [
        ([], {}, "MIGRATION_TASK_Q"),  # the production default
        ([], {"EMCO_MIGRATE_TASK_QUEUE": "from-env"}, "from-env"),
        (["--task-queue", "from-flag"], {"EMCO_MIGRATE_TASK_QUEUE": "from-env"}, "from-flag"),
    ],
)
def test_http_server_task_queue_from_the_flag_then_the_environment(
    args: list[str], environ: dict[str, str], expected: str
) -> None:
    parser = argparse.ArgumentParser()
    http_server_main.add_arguments(parser)

    settings = http_server_main.settings_from(parser.parse_args(args), environ)

    assert settings.task_queue == expected


def test_http_server_refuses_a_bad_task_queue_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = cli.main(["http-server", "--port", str(free_port()), "--task-queue", "a\nb"])

    assert code == 1
    assert capsys.readouterr().err.strip() == (
        "emco-migrate http-server: error: --task-queue 'a\\nb' is not printable "
        "(it has control characters)"
    )


async def test_second_invoke_of_a_running_id_is_409(
    http_app: AppFactory, workflows: Workflows
) -> None:
    http = await http_app()
    body = spec_body(workflows.new_id())
    assert (await http.post(INVOKE, content=body)).status_code == 204

    response = await http.post(INVOKE, content=body)

    assert response.status_code == 409
    assert "already in use" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (b'{"workflowStartOptions":', None, "malformed JSON"),
        (b"", None, "empty body"),
        (b"[1, 2]", None, "expected an object"),
        (spec_body(None), "workflowStartOptions.ID", "required"),
        (spec_body("x", ID=""), "workflowStartOptions.ID", "required"),
        (spec_body("x", ID=7), "workflowStartOptions.ID", "expected a string"),
        (
            spec_body("x", WorkflowRunTimeout="60s"),
            "workflowStartOptions.WorkflowRunTimeout",
            "expected an integer number of nanoseconds, got string",
        ),
        (
            spec_body("x", WorkflowTaskTimeout=1.5),
            "workflowStartOptions.WorkflowTaskTimeout",
            "got the non-integer number 1.5",
        ),
        (
            spec_body("x", WorkflowRunTimeout=-1),
            "workflowStartOptions.WorkflowRunTimeout",
            "must not be negative (got -1 ns)",
        ),
        (
            spec_body("x", WorkflowIDReusePolicy="RejectDuplicate"),
            "workflowStartOptions.WorkflowIDReusePolicy",
            "expected an integer WorkflowIdReusePolicy (0-3), got string",
        ),
        (
            spec_body("x", WorkflowIDReusePolicy=7),
            "workflowStartOptions.WorkflowIDReusePolicy",
            "7 is not a WorkflowIdReusePolicy",
        ),
        (
            spec_body("x", RetryPolicy={"BackoffCoefficient": 0.5}),
            "workflowStartOptions.RetryPolicy.BackoffCoefficient",
            "must be 0 (default 2.0) or at least 1, got 0.5",
        ),
        (
            spec_body("x", RetryPolicy={"MaximumAttempts": 3_000_000_000}),
            "workflowStartOptions.RetryPolicy.MaximumAttempts",
            "out of range",
        ),
        (
            spec_body("x", SearchAttributes={"NotRegistered": "v"}),
            "workflowStartOptions.SearchAttributes['NotRegistered']",
            "not a custom search attribute",
        ),
        (
            b'{"workflowParams":{"activityParams":{"all-activities":{"port":8080}}},'
            b'"workflowStartOptions":{"ID":"x"}}',
            "workflowParams.activityParams['all-activities']['port']",
            "expected a string",
        ),
    ],
)
async def test_bad_input_is_400_naming_the_problem(
    http_app: AppFactory, body: bytes, field: str | None, message: str
) -> None:
    http = await http_app()

    response = await http.post(INVOKE, content=body)

    assert response.status_code == 400
    answer = response.json()
    assert message in answer["error"]
    if field is None:
        assert "field" not in answer
    else:
        assert answer["field"].startswith(field)


async def test_invalid_cron_schedule_refused_by_temporal_is_400(http_app: AppFactory) -> None:
    http = await http_app()

    response = await http.post(INVOKE, content=spec_body("bad-cron", CronSchedule="every day"))

    assert response.status_code == 400
    assert "cron" in response.json()["error"].lower()


async def test_unknown_client_is_404(http_app: AppFactory) -> None:
    http = await http_app()

    response = await http.post("/invoke/no_such_client", content=INVOKE_BODY)

    assert response.status_code == 404
    assert response.json() == {
        "error": "unknown workflow client 'no_such_client'",
        "client": "no_such_client",
    }


async def test_invalid_client_name_is_400(http_app: AppFactory) -> None:
    http = await http_app()

    response = await http.post("/invoke/bad.name", content=INVOKE_BODY)

    assert response.status_code == 400
    assert "invalid workflow client name" in response.json()["error"]


async def test_body_over_one_mebibyte_is_413_by_content_length(http_app: AppFactory) -> None:
    http = await http_app()
    body = b" " * (1024 * 1024) + INVOKE_BODY

    response = await http.post(INVOKE, content=body)

    assert response.status_code == 413
    assert "larger than 1048576 bytes" in response.json()["error"]


async def test_body_over_one_mebibyte_is_413_when_streamed(http_app: AppFactory) -> None:
    http = await http_app()

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65536

    response = await http.post(INVOKE, content=chunks())

    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_exactly_one_mebibyte_is_accepted(
    http_app: AppFactory, temporal_client: Client, workflows: Workflows
) -> None:
    http = await http_app()
    workflow_id = workflows.new_id()
    body = spec_body(workflow_id)
    body = body + b" " * (1024 * 1024 - len(body))

    response = await http.post(INVOKE, content=body)

    assert response.status_code == 204
    assert await status_of(temporal_client, workflow_id) is WorkflowExecutionStatus.RUNNING


async def test_unreachable_temporal_is_503_and_not_ready(http_app: AppFactory) -> None:
    http = await http_app(address=f"127.0.0.1:{free_port()}")

    response = await http.post(INVOKE, content=INVOKE_BODY)
    ready = await http.get("/readyz")
    health = await http.get("/healthz")

    assert response.status_code == 503
    assert "cannot reach Temporal" in response.json()["error"]
    assert ready.status_code == 503
    assert ready.json()["ready"] is False
    assert "connection refused" in ready.json()["reason"]
    assert health.status_code == 200


async def test_bad_input_is_400_even_when_temporal_is_down(http_app: AppFactory) -> None:
    http = await http_app(address=f"127.0.0.1:{free_port()}")

    response = await http.post(INVOKE, content=spec_body(None))

    assert response.status_code == 400
    assert response.json()["field"] == "workflowStartOptions.ID"


async def test_health_and_readiness(http_app: AppFactory) -> None:
    http = await http_app()

    health = await http.get("/healthz")
    ready = await http.get("/readyz")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"ready": True})


async def test_unexpected_failure_is_a_json_500_without_traceback(http_app: AppFactory) -> None:
    class Broken:
        async def start(self, client: Client, spec: TemporalSpec) -> StartedWorkflow:
            raise RuntimeError("secret internals")

    http = await http_app(registry=WorkflowClientRegistry({"broken": Broken()}))

    response = await http.post("/invoke/broken", content=INVOKE_BODY)

    assert response.status_code == 500
    assert response.json() == {"error": "internal error", "client": "broken"}
    assert "secret" not in response.text


async def test_unknown_path_is_json_404(http_app: AppFactory) -> None:
    http = await http_app()

    response = await http.get("/nope")

    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


async def test_registry_has_the_builtin_client() -> None:
    registry = WorkflowClientRegistry.from_entry_points()

    assert "migrate_workflowclient" in registry


async def test_a_built_in_client_wins_over_its_entry_point() -> None:
    ours = MigrateWorkflowClient(EmcoUrlPolicy(("http://emco.example:30415",)))
    registry = WorkflowClientRegistry.from_entry_points(built_in={"migrate_workflowclient": ours})

    assert registry.get("migrate_workflowclient") is ours


# ----------------------------------------------------------------- --exec-dir clients


def _client_script(directory: Path, name: str, body: str) -> Path:
    script = directory / name
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


async def test_exec_dir_client_gets_the_raw_body_in_a_temp_file(
    http_app: AppFactory, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    args_file, body_file = tmp_path / "args", tmp_path / "body"
    _client_script(
        bin_dir,
        "recording-client",
        f'printf "%s\\n" "$@" > {args_file}\ncat "$2" > {body_file}\necho started\n',
    )
    http = await http_app(exec_dir=bin_dir)
    body = b'{"workflowStartOptions": {"id": "raw"},  "workflowClientName": "x"}'

    response = await http.post("/invoke/recording-client", content=body)

    assert response.status_code == 204
    flag, spec_path = args_file.read_text().splitlines()
    assert flag == "-a"
    assert body_file.read_bytes() == body
    assert not (tmp_path / spec_path).exists()  # an absolute path: the temp file is gone


async def test_exec_dir_client_failing_is_502_with_its_exit_code(
    http_app: AppFactory, tmp_path: Path
) -> None:
    _client_script(tmp_path, "failing", "echo 'no luck' >&2\nexit 3\n")
    http = await http_app(exec_dir=tmp_path)

    response = await http.post("/invoke/failing", content=INVOKE_BODY)

    assert response.status_code == 502
    assert response.json() == {
        "error": "workflow client 'failing' exited with code 3",
        "client": "failing",
        "exitCode": 3,
    }


async def test_exec_dir_client_running_too_long_is_killed_and_504(
    http_app: AppFactory, tmp_path: Path
) -> None:
    pid_file = tmp_path / "child.pid"
    _client_script(tmp_path, "slow", f"sleep 60 &\necho $! > {pid_file}\nwait\n")
    http = await http_app(exec_dir=tmp_path, exec_timeout=1.0)

    response = await http.post("/invoke/slow", content=INVOKE_BODY)

    assert response.status_code == 504
    assert response.json()["client"] == "slow"
    child = int(pid_file.read_text())

    async def child_gone() -> bool:
        return not _process_alive(child)

    await wait_for(child_gone, what=f"the client's child process {child} to be killed")


async def test_exec_dir_is_not_used_for_a_non_executable_file(
    http_app: AppFactory, tmp_path: Path
) -> None:
    (tmp_path / "plain").write_text("#!/bin/sh\nexit 0\n")
    http = await http_app(exec_dir=tmp_path)

    response = await http.post("/invoke/plain", content=INVOKE_BODY)

    assert response.status_code == 404


async def test_exec_dir_client_still_gets_malformed_json_refused(
    http_app: AppFactory, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    _client_script(tmp_path, "client", f"touch {marker}\n")
    http = await http_app(exec_dir=tmp_path)

    response = await http.post("/invoke/client", content=b"{oops")

    assert response.status_code == 400
    assert not marker.exists()


def _process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


# ----------------------------------------------------------------- the real server


async def test_http_server_command_serves_until_stopped(
    temporal_address: str, tmp_path: Path
) -> None:
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emco_migrate",
        "http-server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--address",
        temporal_address,
        stdout=log,
        stderr=log,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:

            async def serving() -> bool:
                if process.returncode is not None:
                    pytest.fail(f"server exited: {(tmp_path / 'server.log').read_text()}")
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_for(serving, within=30, what="the HTTP server to be ready")
            response = await http.post("/invoke/x", content=INVOKE_BODY)
            assert response.status_code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
        log.close()
    # A requested stop is a graceful shutdown and a clean exit, like the worker's.
    assert code == 0, (tmp_path / "server.log").read_text()
    assert "Application shutdown complete" in (tmp_path / "server.log").read_text()


def test_http_server_fails_at_start_when_temporal_is_unreachable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = f"127.0.0.1:{free_port()}"

    code = cli.main(["http-server", "--port", str(free_port()), "--address", address])

    err = capsys.readouterr().err.strip()
    assert code == 3
    assert err == (
        f"emco-migrate http-server: error: cannot reach Temporal at {address} "
        "(namespace default): connection refused"
    )


def test_http_server_refuses_a_missing_exec_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["http-server", "--exec-dir", str(tmp_path / "missing")])

    assert code == 1
    assert "is not a directory" in capsys.readouterr().err
