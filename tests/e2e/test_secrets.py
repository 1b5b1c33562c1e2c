"""No secret ever shows: the http-server's bearer token, its TLS key and the Temporal API key
appear in no log, no `status` output, no memo and no workflow history of a migration that
went through all of them. Real processes, the real dev server, the emulator."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from emco_migrate.devstack.processes import ManagedProcess, free_port, wait_until
from support.emulator import SampleSetup
from support.pki import Pki
from support.waiting import wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _env(api_key: str, address: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    # The dev server ignores the key; our processes must still send it and never show it.
    env.update(
        TEMPORAL_ADDRESS=address, TEMPORAL_API_KEY=api_key, TEMPORAL_TLS="false",
        PYTHONUNBUFFERED="1",
    )  # fmt: skip
    return env


def _key_material(key_file: Path) -> list[str]:
    lines = key_file.read_text().splitlines()
    return [line for line in lines if line and not line.startswith("-----")]


async def test_token_tls_key_and_api_key_show_nowhere(
    tmp_path: Path,
    temporal_address: str,
    temporal_client: Client,
    task_queue: str,
    sample_setup: SampleSetup,
    pki: Pki,
) -> None:
    token, api_key = f"tok-{uuid.uuid4().hex}", f"key-{uuid.uuid4().hex}"
    token_file = tmp_path / "token"
    token_file.write_text(token)
    env = {**_env(api_key, temporal_address), "EMCO_MIGRATE_TASK_QUEUE": task_queue}
    logs = {name: tmp_path / f"{name}.log" for name in ("worker", "http-server")}
    port = free_port()
    worker = ManagedProcess(
        "worker", [sys.executable, "-m", "emco_migrate", "--log-level", "DEBUG", "worker"],
        log_path=logs["worker"], env=env,
    )  # fmt: skip
    server = ManagedProcess(
        "http-server",
        [sys.executable, "-m", "emco_migrate", "--log-level", "DEBUG", "http-server",
         "--host", "127.0.0.1", "--port", str(port), "--auth-token-file", str(token_file),
         "--tls-cert-file", str(pki.server_cert), "--tls-key-file", str(pki.server_key)],
        log_path=logs["http-server"], env=env,
    )  # fmt: skip
    workflow_id = f"secrets-{uuid.uuid4()}"
    spec = {
        "workflowClientName": "migrate_workflowclient",
        "workflowStartOptions": {"ID": workflow_id, "Memo": {"note": "memo of the test"}},
        "workflowParams": {"activityParams": {"all-activities": sample_setup.activity_params()}},
    }
    try:
        worker.start()
        server.start()
        wait_until(
            lambda: f"polling {task_queue} " in logs["worker"].read_text(),
            timeout=30, what="the worker", alive=worker.exit_reason,
        )  # fmt: skip
        async with httpx.AsyncClient(
            base_url=f"https://127.0.0.1:{port}", verify=pki.client_context(with_cert=False)
        ) as https:

            async def serving() -> bool:
                try:
                    return (await https.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_for(serving, within=30, what="the HTTP server")
            answer = await https.post(
                "/invoke/migrate_workflowclient",
                content=json.dumps(spec),
                headers={"Authorization": f"Bearer {token}"},
            )
        assert answer.status_code == 204, answer.text
        handle = temporal_client.get_workflow_handle(workflow_id)
        await asyncio.wait_for(handle.result(), 60)
        status = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "emco_migrate", "status", workflow_id, "--history"],
            capture_output=True, text=True, timeout=60, cwd=ROOT, env=env,
        )  # fmt: skip
        assert status.returncode == 0, status.stderr
        history = json.dumps((await handle.fetch_history()).to_json_dict())
        memo = json.dumps(await (await handle.describe()).memo())
    finally:
        server.stop()
        worker.stop()

    seen = {
        "worker log": logs["worker"].read_text(),
        "http-server log": logs["http-server"].read_text(),
        "status": status.stdout + status.stderr,
        "history": history,
        "memo": memo,
    }
    assert "memo of the test" in memo and "completed" in status.stdout
    for secret in (token, api_key, *_key_material(pki.server_key)):
        found = [where for where, text in seen.items() if secret in text]
        assert not found, f"a secret appears in {found}"
