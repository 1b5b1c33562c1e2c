"""Temporal settings refused before connecting, and connection failures as one short reason.

Settings: booleans envconfig would misread and config files it would silently ignore. Failures:
the CLI against real listeners (a closed port, an HTTP/1 server, one that hangs up, the dev
server with TLS on, a TLS server without TLS, untrusted and misnamed certificates).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from emco_migrate import cli
from emco_migrate.devstack.processes import free_port
from emco_migrate.errors import TemporalUnreachable, UserError
from emco_migrate.temporal_connection import (
    BOOLEAN_VARIABLES,
    ConnectFailure,
    TemporalSettings,
    connect,
    short_reason,
)

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "Migrate_Workflow.md"
TLS_OFF_HINT = "(TLS is off; set TEMPORAL_TLS=true if the server expects TLS)"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TEMPORAL_* or EMCO_MIGRATE_* variable of the caller's shell leaks in."""
    for name in list(os.environ):
        if name.startswith(("TEMPORAL_", "EMCO_MIGRATE_")):
            monkeypatch.delenv(name)


def cli_error(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the CLI in-process; its exit code and its only stderr line."""
    code = cli.main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return code, lines[0]


def closed_address() -> str:
    return f"127.0.0.1:{free_port()}"


# --- boolean variables ------------------------------------------------------------------


@pytest.mark.parametrize("name", BOOLEAN_VARIABLES)
@pytest.mark.parametrize("value", ["no", "yes", "on", "off", "", " true", "2"])
def test_a_boolean_that_is_not_true_false_1_0_is_refused_before_connecting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    # A closed port: had it connected, the answer would be exit 3, "connection refused".
    code, line = cli_error(capsys, "status", "wf", "--address", closed_address())
    assert code == 1
    assert line == (
        f"emco-migrate status: error: {name}={value!r} is not a boolean: use true, false, 1 or 0"
    )


def test_tls_no_in_a_worker_process_is_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "EMCO_"))}
    result = subprocess.run(
        [sys.executable, "-m", "emco_migrate", "worker", "--address", closed_address()],
        env={**env, "TEMPORAL_TLS": "no"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "emco-migrate worker: error: TEMPORAL_TLS='no' is not a boolean: use true, false, 1 or 0"
    ]


@pytest.mark.parametrize(("value", "tls"), [("true", True), ("TRUE", True), ("1", True)])
def test_tls_on_spellings(value: str, tls: bool) -> None:
    settings = TemporalSettings.load(env={"TEMPORAL_TLS": value})
    assert settings.tls is not False


@pytest.mark.parametrize("value", ["false", "False", "0"])
def test_tls_off_spellings_win_over_other_tls_settings(value: str) -> None:
    env = {"TEMPORAL_TLS": value, "TEMPORAL_TLS_SERVER_NAME": "x", "TEMPORAL_API_KEY": "k"}
    assert TemporalSettings.load(env=env).tls is False


def test_disabling_host_verification_is_refused_as_unsupported(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert TemporalSettings.load(env={"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION": "0"})
    monkeypatch.setenv("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "true")
    code, line = cli_error(capsys, "status", "wf", "--address", closed_address())
    assert code == 1
    assert "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=true is not supported" in line


# --- TEMPORAL_CONFIG_FILE -----------------------------------------------------------------


def test_missing_config_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "temporal.toml"
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(missing))
    code, line = cli_error(capsys, "status", "wf")
    assert code == 1
    assert line == (
        f"emco-migrate status: error: TEMPORAL_CONFIG_FILE={missing}: no such file or directory"
    )


def test_config_file_that_is_a_directory(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path))
    code, line = cli_error(capsys, "status", "wf")
    assert code == 1
    assert line == f"emco-migrate status: error: TEMPORAL_CONFIG_FILE={tmp_path}: is a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_config_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text('[profile.default]\naddress = "x:1"\n')
    config.chmod(0)
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(config))
    code, line = cli_error(capsys, "status", "wf")
    assert code == 1
    assert line == f"emco-migrate status: error: TEMPORAL_CONFIG_FILE={config}: permission denied"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[profile.default\naddress =", " is not valid TOML: "),
        # Valid TOML that envconfig's schema refuses.
        ("[profile.default]\naddress = 5\n", ": "),
        ("\xff\xfe", " is not valid TOML: "),
    ],
    ids=["syntax", "wrong-type", "not-utf8"],
)
def test_config_file_that_is_not_temporal_toml(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    text: str,
    problem: str,
) -> None:
    config = tmp_path / "temporal.toml"
    config.write_bytes(text.encode("latin-1"))
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(config))
    code, line = cli_error(capsys, "status", "wf")
    assert code == 1
    assert line.startswith(f"emco-migrate status: error: TEMPORAL_CONFIG_FILE={config}{problem}")


def test_a_good_config_file_is_used(tmp_path: Path) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text('[profile.default]\naddress = "temporal.example:7000"\nnamespace = "ns"\n')
    settings = TemporalSettings.load(env={"TEMPORAL_CONFIG_FILE": str(config)})
    assert (settings.address, settings.namespace) == ("temporal.example:7000", "ns")


# --- short reasons ------------------------------------------------------------------------

# What the bridge raised against each kind of listener (recorded with temporalio 1.35).
RECORDED = [
    (
        "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
        'ConnectError(ConnectError("tcp connect error", 127.0.0.1:41251, Os { code: 111, kind: '
        'ConnectionRefused, message: "Connection refused" })))',
        ConnectFailure.REFUSED,
    ),
    (
        "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
        'ConnectError(ConnectError("dns error", Custom { kind: Uncategorized, error: "failed to '
        'lookup address information: Name or service not known" })))',
        ConnectFailure.HOST_NOT_FOUND,
    ),
    (
        "Failed client connect: `get_system_info` call error after connection: Status { code: "
        'Cancelled, message: "operation was canceled", source: Some(tonic::transport::Error('
        'Transport, hyper::Error(Canceled, "connection closed"))) }',
        ConnectFailure.CLOSED,
    ),
    (
        "Failed client connect: `get_system_info` call error after connection: Status { code: "
        'Internal, message: "h2 protocol error: http2 error", source: Some(tonic::transport::'
        'Error(Transport, hyper::Error(Http2, Error { kind: GoAway(b"", FRAME_SIZE_ERROR, '
        "Library) }))) }",
        ConnectFailure.NOT_GRPC,
    ),
    (
        "Failed client connect: `get_system_info` call error after connection: Status { code: "
        'Unimplemented, message: "grpc-status header missing, mapped from HTTP status code 404",'
        " metadata: MetadataMap { headers: {} }, source: None }",
        ConnectFailure.NOT_GRPC,
    ),
    (
        "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
        "ConnectError(Custom { kind: InvalidData, error: InvalidMessage(InvalidContentType) }))",
        ConnectFailure.TLS_NOT_TLS,
    ),
    (
        "Failed client connect: `get_system_info` call error after connection: Status { code: "
        'Unknown, message: "transport error", source: Some(tonic::transport::Error(Transport, '
        "hyper::Error(Io, Kind(ConnectionReset)))) }",
        ConnectFailure.RESET,
    ),
    (
        "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
        'ConnectError(Os { code: 104, kind: ConnectionReset, message: "Connection reset by peer"'
        " }))",
        ConnectFailure.RESET,
    ),
    (
        "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
        "ConnectError(Custom { kind: InvalidData, error: InvalidCertificate(UnknownIssuer) }))",
        ConnectFailure.TLS_UNTRUSTED,
    ),
    (
        "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
        "ConnectError(Custom { kind: InvalidData, error: InvalidCertificate(Other(OtherError("
        "CaUsedAsEndEntity))) }))",
        ConnectFailure.TLS_UNTRUSTED,
    ),
    (
        "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
        "ConnectError(Custom { kind: InvalidData, error: InvalidCertificate(NotValidForNameContext"
        ' { expected: DnsName("other"), presented: ["DnsName(\\"localhost\\")"] }) }))',
        ConnectFailure.TLS_WRONG_NAME,
    ),
    (
        "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
        'ConnectError(Custom { kind: UnexpectedEof, error: "tls handshake eof" }))',
        ConnectFailure.TLS_CLOSED,
    ),
    (
        "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
        "ConnectError(H2NotNegotiated))",
        ConnectFailure.TLS_NO_HTTP2,
    ),
]


@pytest.mark.parametrize(("text", "reason"), RECORDED)
def test_recorded_transport_errors_have_short_reasons(text: str, reason: ConnectFailure) -> None:
    assert short_reason(RuntimeError(text)) == reason


def test_other_transport_errors_never_show_the_dump() -> None:
    unreachable = RuntimeError(
        "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
        'ConnectError(ConnectError("tcp connect error", 10.0.0.1:7233, Os { code: 101, kind: '
        'NetworkUnreachable, message: "Network is unreachable" })))'
    )
    assert short_reason(unreachable) == "network is unreachable"
    odd = RuntimeError("Failed client connect: tonic::transport::Error(Transport, Something)")
    assert short_reason(odd) == ConnectFailure.TRANSPORT


def test_every_reason_is_in_the_guide() -> None:
    section = GUIDE.read_text().split("### 7.1", 1)[1].split("### 7.2", 1)[0]
    for reason in ConnectFailure:
        assert f"`{reason.value}`" in section, reason


# --- real listeners -----------------------------------------------------------------------


@dataclass
class Listener:
    """A loopback TCP server whose every connection goes to ``handle``."""

    handle: Callable[[socket.socket], None]

    def __post_init__(self) -> None:
        handle = self.handle

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                handle(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.address = f"127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


Listen = Callable[[Callable[[socket.socket], None]], Listener]


@pytest.fixture
def listen() -> Iterator[Listen]:
    started: list[Listener] = []

    def _listen(handle: Callable[[socket.socket], None]) -> Listener:
        started.append(Listener(handle))
        return started[-1]

    yield _listen
    for listener in started:
        listener.close()


def hang_up(conn: socket.socket) -> None:
    conn.close()


def http1(conn: socket.socket) -> None:
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed server certificate for 127.0.0.1 and localhost (not a CA)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    work = tmp_path_factory.mktemp("tls")
    made = Certificate(cert=work / "cert.pem", key=work / "key.pem")
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(made.key), "-out", str(made.cert), "-days", "2",
            "-subj", "/CN=emco-migrate-test",
            "-addext", "basicConstraints=critical,CA:FALSE",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return made


def tls_server(certificate: Certificate) -> Callable[[socket.socket], None]:
    """A TLS server that offers no HTTP/2: the handshake can succeed, gRPC cannot."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert, certificate.key)

    def handle(conn: socket.socket) -> None:
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(4096)
        except OSError:  # ssl.SSLError included: a client that does not speak TLS
            conn.close()

    return handle


def unreachable(capsys: pytest.CaptureFixture[str], address: str) -> str:
    """The reason `emco-migrate status` gives for ``address``; asserts exit 3 and one line."""
    code, line = cli_error(capsys, "status", "wf", "--address", address)
    assert code == 3, line
    prefix = f"emco-migrate status: error: cannot reach Temporal at {address} (namespace default): "
    assert line.startswith(prefix), line
    return line.removeprefix(prefix)


def test_nobody_listening(capsys: pytest.CaptureFixture[str]) -> None:
    assert unreachable(capsys, closed_address()) == ConnectFailure.REFUSED


def test_unknown_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert unreachable(capsys, "no-such-host.invalid:7233") == ConnectFailure.HOST_NOT_FOUND


def test_server_that_hangs_up(capsys: pytest.CaptureFixture[str], listen: Listen) -> None:
    reason = unreachable(capsys, listen(hang_up).address)
    assert reason in {
        f"{ConnectFailure.RESET} {TLS_OFF_HINT}",
        f"{ConnectFailure.CLOSED} {TLS_OFF_HINT}",
    }


def test_http1_server(capsys: pytest.CaptureFixture[str], listen: Listen) -> None:
    # The client sees either the HTTP/1 answer or, when its HTTP/2 preface loses the race
    # with the server's close, only the close: both are short reasons, never the raw text.
    reason = unreachable(capsys, listen(http1).address)
    assert reason == ConnectFailure.NOT_GRPC or reason.startswith(ConnectFailure.CLOSED), reason


def test_tls_against_the_plaintext_dev_server(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, temporal_address: str
) -> None:
    monkeypatch.setenv("TEMPORAL_TLS", "true")
    assert unreachable(capsys, temporal_address) == ConnectFailure.TLS_NOT_TLS


def test_plaintext_against_a_tls_server(
    capsys: pytest.CaptureFixture[str], listen: Listen, certificate: Certificate
) -> None:
    reason = unreachable(capsys, listen(tls_server(certificate)).address)
    assert reason.endswith(TLS_OFF_HINT), reason
    assert reason.startswith((ConnectFailure.RESET, ConnectFailure.CLOSED)), reason


def test_tls_with_an_untrusted_certificate(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    listen: Listen,
    certificate: Certificate,
) -> None:
    monkeypatch.setenv("TEMPORAL_TLS", "1")
    reason = unreachable(capsys, listen(tls_server(certificate)).address)
    assert reason == ConnectFailure.TLS_UNTRUSTED


def test_tls_with_a_certificate_for_another_name(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    listen: Listen,
    certificate: Certificate,
) -> None:
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", str(certificate.cert))
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_NAME", "temporal.example")
    reason = unreachable(capsys, listen(tls_server(certificate)).address)
    assert reason == ConnectFailure.TLS_WRONG_NAME


def test_tls_server_without_http2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    listen: Listen,
    certificate: Certificate,
) -> None:
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", str(certificate.cert))
    reason = unreachable(capsys, listen(tls_server(certificate)).address)
    assert reason == ConnectFailure.TLS_NO_HTTP2


async def test_server_that_never_answers(listen: Listen) -> None:
    release = threading.Event()

    def hold(_: socket.socket) -> None:
        release.wait(10)

    listener = listen(hold)
    try:
        with pytest.raises(TemporalUnreachable) as caught:
            await connect(TemporalSettings(address=listener.address), timeout=0.3)
    finally:
        release.set()
    assert str(caught.value).endswith(": no answer within 0.3s")


def test_settings_errors_are_user_errors_not_unreachable() -> None:
    with pytest.raises(UserError) as caught:
        TemporalSettings.load(env={"TEMPORAL_TLS": "yes"})
    assert not isinstance(caught.value, TemporalUnreachable)
    assert caught.value.exit_code == 1
    assert re.fullmatch(r"TEMPORAL_TLS='yes' is not a boolean: .*", str(caught.value))
