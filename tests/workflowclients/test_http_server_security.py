"""Locking the door of the HTTP server: bearer token, TLS and mutual TLS, a taken port, and
the emcoURL allowlist flag; through the real app and the real ``http-server`` process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from emco_migrate import cli
from emco_migrate.devstack.processes import free_port
from emco_migrate.errors import UserError
from emco_migrate.workflowclients.http_server import main as http_server_main
from emco_migrate.workflowclients.http_server.security import BearerToken
from support.pki import Pki, openssl
from support.waiting import wait_for

from .conftest import AppFactory
from .helpers import INVOKE_BODY, Workflows, spec_body, status_of

pytestmark = pytest.mark.integration

# Unguessable per session, so finding it in a log can only mean the server wrote it there.
TOKEN = f"tok-{uuid.uuid4().hex}"
INVOKE = "/invoke/migrate_workflowclient"
ERROR_PREFIX = "emco-migrate http-server: error: "


# ----------------------------------------------------------------- the token, in the app


@pytest.fixture
async def locked_app(http_app: AppFactory) -> httpx.AsyncClient:
    return await http_app(auth_token=BearerToken(TOKEN.encode()))


async def test_invoke_without_a_token_is_401_with_a_bearer_challenge(
    locked_app: httpx.AsyncClient,
) -> None:
    response = await locked_app.post(INVOKE, content=INVOKE_BODY)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "error": "missing bearer token: send 'Authorization: Bearer <token>'"
    }


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("Bearer not-the-token", "wrong bearer token"),
        (f"Bearer {TOKEN}x", "wrong bearer token"),
        (f"Bearer {TOKEN[:-1]}", "wrong bearer token"),
        ("Bearer ", "wrong bearer token"),
        (f"Basic {TOKEN}", "missing bearer token"),
        (TOKEN, "missing bearer token"),
    ],
)
async def test_invoke_with_a_wrong_token_is_401(
    locked_app: httpx.AsyncClient, authorization: str, reason: str
) -> None:
    response = await locked_app.post(
        INVOKE, content=INVOKE_BODY, headers={"Authorization": authorization}
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"].startswith(f"{reason}:")


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
async def test_invoke_with_the_token_starts_the_workflow(
    locked_app: httpx.AsyncClient, temporal_client: Client, workflows: Workflows, scheme: str
) -> None:
    workflow_id = workflows.new_id()

    response = await locked_app.post(
        INVOKE, content=spec_body(workflow_id), headers={"Authorization": f"{scheme} {TOKEN}"}
    )

    assert response.status_code == 204
    assert await status_of(temporal_client, workflow_id) is WorkflowExecutionStatus.RUNNING


@pytest.mark.parametrize("path", ["/invoke/no_such_client", "/invoke/bad.name"])
async def test_unauthorized_requests_learn_nothing_about_clients(
    locked_app: httpx.AsyncClient, path: str
) -> None:
    response = await locked_app.post(path, content=b"{oops")

    assert response.status_code == 401


async def test_probes_stay_open_with_a_token(locked_app: httpx.AsyncClient) -> None:
    health = await locked_app.get("/healthz")
    ready = await locked_app.get("/readyz")

    assert (health.status_code, ready.status_code) == (200, 200)


async def test_without_a_token_invoke_needs_no_authorization(
    http_app: AppFactory, workflows: Workflows
) -> None:
    http = await http_app()

    response = await http.post(INVOKE, content=spec_body(workflows.new_id()))

    assert response.status_code == 204


async def test_the_token_is_never_logged_nor_answered(
    http_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    token = BearerToken(TOKEN.encode())
    with caplog.at_level(logging.DEBUG):
        http = await http_app(auth_token=token)
        answers = [
            await http.post("/invoke/x", content=INVOKE_BODY, headers={"Authorization": value})
            for value in (f"Bearer {TOKEN}-", f"Bearer {TOKEN[:8]}", f"Basic {TOKEN}")
        ]

    assert [a.status_code for a in answers] == [401, 401, 401]
    assert all(TOKEN[:8] not in answer.text for answer in answers)
    assert "refused POST /invoke/x from" in caplog.text
    assert TOKEN[:8] not in caplog.text
    assert TOKEN not in repr(token)


# ----------------------------------------------------------------- startup checks


def _fails_at_start(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``http-server ARGS``, which must fail before serving; its one stderr line."""
    code = cli.main(["http-server", "--port", str(free_port()), *args])
    err = capsys.readouterr().err.strip()
    assert code == 1, err
    assert err.count("\n") == 0, err
    assert err.startswith(ERROR_PREFIX), err
    return err.removeprefix(ERROR_PREFIX)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty: it must hold the bearer token"),
        (" \n\t\n", "is empty: it must hold the bearer token"),
        ("secret1 secret2\n", "must hold one token of printable ASCII characters"),
        ("secret3\nsecret4", "must hold one token of printable ASCII characters"),
    ],
)
def test_a_token_file_without_one_token_fails_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(content)

    err = _fails_at_start(["--auth-token-file", str(token_file)], capsys)

    assert err.startswith(f"--auth-token-file {token_file} {message}")
    for word in content.split():
        assert word not in err


def test_an_unreadable_token_file_fails_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing"

    err = _fails_at_start(["--auth-token-file", str(missing)], capsys)

    assert err == f"--auth-token-file {missing} cannot be read: No such file or directory"


def test_the_token_file_comes_from_the_environment(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"\n  {TOKEN}  \n")
    args = cli.build_parser("http-server").parse_args(["http-server"])

    settings = http_server_main.settings_from(
        args, {http_server_main.AUTH_TOKEN_FILE_VARIABLE: str(token_file)}
    )

    assert settings.auth_token == BearerToken(TOKEN.encode())
    assert TOKEN not in repr(settings)


def test_a_token_file_named_by_the_environment_is_checked_too(tmp_path: Path) -> None:
    args = cli.build_parser("http-server").parse_args(["http-server"])
    environ = {http_server_main.AUTH_TOKEN_FILE_VARIABLE: str(tmp_path / "missing")}

    with pytest.raises(UserError) as refused:
        http_server_main.settings_from(args, environ)

    assert str(refused.value) == (
        f"EMCO_MIGRATE_AUTH_TOKEN_FILE={tmp_path / 'missing'} cannot be read: "
        "No such file or directory"
    )


# ----------------------------------------------------------------- the emcoURL allowlist flag


def _allowed(argv: Sequence[str], environ: dict[str, str] | None = None) -> tuple[str, ...]:
    args = cli.build_parser("http-server").parse_args(["http-server", *argv])
    return http_server_main.settings_from(args, environ or {}).allowed_emco_urls


def test_allow_emco_url_is_repeatable() -> None:
    argv = ["--allow-emco-url", "http://10.0.0.1:30415", "--allow-emco-url", "https://emco.*"]

    assert _allowed(argv) == ("http://10.0.0.1:30415", "https://emco.*")


def test_allow_emco_urls_come_from_the_environment_comma_separated() -> None:
    environ = {http_server_main.ALLOW_EMCO_URLS_VARIABLE: " http://a:1, ,http://b:2,"}

    assert _allowed([], environ) == ("http://a:1", "http://b:2")
    assert _allowed(["--allow-emco-url", "http://c:3"], environ) == ("http://c:3",)


def test_no_allow_emco_url_allows_any() -> None:
    assert _allowed([]) == ()


def test_an_empty_allow_emco_url_is_refused() -> None:
    with pytest.raises(UserError, match="--allow-emco-url must not be empty"):
        _allowed(["--allow-emco-url", " "])


# ----------------------------------------------------------------- certificates


def test_tls_cert_and_key_go_together(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    both = "--tls-cert-file and --tls-key-file go together: give both or neither"
    assert _fails_at_start(["--tls-cert-file", str(pki.server_cert)], capsys) == both
    assert _fails_at_start(["--tls-key-file", str(pki.server_key)], capsys) == both
    assert _fails_at_start(["--tls-client-ca-file", str(pki.ca)], capsys) == (
        "--tls-client-ca-file needs --tls-cert-file and --tls-key-file"
    )


@pytest.mark.parametrize("flag", ["--tls-cert-file", "--tls-key-file", "--tls-client-ca-file"])
def test_an_unreadable_tls_file_fails_at_start(
    pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    files = {
        "--tls-cert-file": str(pki.server_cert),
        "--tls-key-file": str(pki.server_key),
        "--tls-client-ca-file": str(pki.ca),
        flag: str(tmp_path / "missing.pem"),
    }

    err = _fails_at_start([item for pair in files.items() for item in pair], capsys)

    assert err == f"{flag} {tmp_path / 'missing.pem'} cannot be read: No such file or directory"


def test_a_key_of_another_certificate_fails_at_start(
    pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--tls-cert-file", str(pki.server_cert), "--tls-key-file", str(pki.client_key)]

    err = _fails_at_start(args, capsys)

    assert err.startswith(
        f"--tls-cert-file {pki.server_cert} and --tls-key-file {pki.client_key} are not a "
        "PEM certificate and its private key"
    )


def test_a_client_ca_file_without_a_certificate_fails_at_start(
    pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_ca = tmp_path / "ca.pem"
    not_a_ca.write_text("not a certificate\n")
    args = [
        "--tls-cert-file", str(pki.server_cert), "--tls-key-file", str(pki.server_key),
        "--tls-client-ca-file", str(not_a_ca),
    ]  # fmt: skip

    err = _fails_at_start(args, capsys)

    assert err.startswith(f"--tls-client-ca-file {not_a_ca} holds no PEM CA certificate")


def test_an_encrypted_key_fails_at_start_without_asking_for_a_passphrase(
    pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    encrypted = tmp_path / "encrypted.key"
    openssl("pkey", "-in", pki.server_key, "-out", encrypted, "-aes256", "-passout", "pass:x")
    args = ["--tls-cert-file", str(pki.server_cert), "--tls-key-file", str(encrypted)]

    err = _fails_at_start(args, capsys)

    assert err == f"--tls-key-file {encrypted} is encrypted: give an unencrypted key"


# ----------------------------------------------------------------- the real server process


@dataclass
class Server:
    """A running ``emco-migrate http-server`` process and its log."""

    process: asyncio.subprocess.Process
    log_path: Path
    port: int
    stop_seconds: float = 0.0  # from SIGTERM to exit

    def log(self) -> str:
        return self.log_path.read_text()


@contextlib.asynccontextmanager
async def http_server(
    tmp_path: Path,
    temporal_address: str,
    *args: str,
    ready: httpx.AsyncClient,
    env: dict[str, str] | None = None,
) -> AsyncIterator[Server]:
    """Start the server at DEBUG, wait until ``ready`` gets 200 from /healthz, stop it after."""
    port = int(ready.base_url.port or 0)
    log_path = tmp_path / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "emco_migrate", "--log-level", "DEBUG", "http-server",
            "--host", "127.0.0.1", "--port", str(port), "--address", temporal_address, *args,
            stdout=log, stderr=log, env={**os.environ, **(env or {})},
        )  # fmt: skip
    server = Server(process, log_path, port)
    try:

        async def serving() -> bool:
            if process.returncode is not None:
                pytest.fail(f"server exited {process.returncode}: {server.log()}")
            try:
                return (await ready.get("/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_for(serving, within=30, what="the HTTP server to answer")
        yield server
    finally:
        stopping = time.monotonic()
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
        server.stop_seconds = time.monotonic() - stopping
    assert code == 0, server.log()


def _client(
    port: int, scheme: str = "http", verify: ssl.SSLContext | bool = True
) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"{scheme}://127.0.0.1:{port}", timeout=5, verify=verify)


async def test_server_process_requires_the_token_and_never_logs_it(
    tmp_path: Path,
    temporal_address: str,
    temporal_client: Client,
    workflows: Workflows,
    task_queue: str,
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"\n  {TOKEN}\t\n")
    workflow_id = workflows.new_id()
    async with (
        _client(free_port()) as http,
        http_server(
            tmp_path,
            temporal_address,
            "--allow-emco-url", "http://192.168.1.201:30415", "--task-queue", task_queue,
            ready=http,
            env={http_server_main.AUTH_TOKEN_FILE_VARIABLE: str(token_file)},
        ) as server,
    ):  # fmt: skip
        missing = await http.post(INVOKE, content=spec_body(workflow_id))
        wrong = await http.post(
            INVOKE, content=spec_body(workflow_id), headers={"Authorization": "Bearer nope"}
        )
        right = await http.post(
            INVOKE, content=spec_body(workflow_id), headers={"Authorization": f"Bearer {TOKEN}"}
        )
        ready = await http.get("/readyz")

    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 204)
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "missing bearer token" in missing.json()["error"]
    assert ready.status_code == 200
    assert await status_of(temporal_client, workflow_id) is WorkflowExecutionStatus.RUNNING
    log = server.log()
    assert "refused POST /invoke/migrate_workflowclient from 127.0.0.1: wrong bearer token" in log
    assert TOKEN not in log
    assert "unauthenticated" not in log
    assert "no --allow-emco-url given" not in log


async def test_server_process_serves_mutual_tls_only_to_clients_with_a_certificate(
    tmp_path: Path, temporal_address: str, pki: Pki
) -> None:
    port = free_port()
    async with (
        _client(port, "https", verify=pki.client_context()) as https,
        http_server(
            tmp_path,
            temporal_address,
            "--tls-cert-file", str(pki.server_cert),
            "--tls-key-file", str(pki.server_key),
            "--tls-client-ca-file", str(pki.ca),
            ready=https,
        ) as server,
    ):  # fmt: skip
        ready = await https.get("/readyz")
        invoke = await https.post("/invoke/no_such_client", content=INVOKE_BODY)
        failures = []
        for client in (
            _client(port, "https", verify=pki.client_context(with_cert=False)),
            _client(port, "https", verify=pki.client_context(stranger=True)),
            _client(port, "http"),
        ):
            async with client:
                with pytest.raises(httpx.TransportError) as failed:
                    await client.get("/healthz")
                failures.append(failed.value)
        # What a kubelet tcpSocket probe does: connect, then close without a handshake.
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        after_probe = await https.get("/healthz")

    assert ready.status_code == 200
    assert invoke.status_code == 404
    assert len(failures) == 3
    assert after_probe.status_code == 200
    log = server.log()
    assert f"listening on https://127.0.0.1:{port} with mutual TLS" in log
    assert "no --auth-token-file given: POST /invoke is unauthenticated" in log
    assert "no --allow-emco-url given: workflows may call any emcoURL" in log
    assert "Traceback" not in log


async def test_server_process_serves_tls_without_client_certificates(
    tmp_path: Path, temporal_address: str, pki: Pki
) -> None:
    port = free_port()
    args = ["--tls-cert-file", str(pki.server_cert), "--tls-key-file", str(pki.server_key)]
    async with (
        _client(port, "https", verify=pki.client_context(with_cert=False)) as https,
        http_server(tmp_path, temporal_address, *args, ready=https) as server,
        _client(port, "http") as plain,
    ):
        health = await https.get("/healthz")
        with pytest.raises(httpx.TransportError):
            await plain.get("/healthz")
        # `https` keeps its connection open, idle, while the server is stopped.

    assert health.status_code == 200
    # asyncio would wait 30 s for the idle client's TLS close_notify.
    assert server.stop_seconds < 10


def test_a_taken_port_is_one_line_and_exit_4_before_temporal_is_dialled() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        unreachable_temporal = f"127.0.0.1:{free_port()}"
        result = subprocess.run(
            [
                sys.executable, "-m", "emco_migrate", "http-server",
                "--host", "127.0.0.1", "--port", str(port), "--address", unreachable_temporal,
            ],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    assert result.returncode == 4, result.stderr
    assert result.stderr.splitlines() == [
        f"{ERROR_PREFIX}address 127.0.0.1:{port} is in use: "
        "stop what listens there or choose another port"
    ]
