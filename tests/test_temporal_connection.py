"""Temporal connection settings: flags, envconfig variables, the seed's TEMPORAL_SERVER."""

from __future__ import annotations

from pathlib import Path

import pytest

from emco_migrate.errors import TemporalUnreachable, UserError
from emco_migrate.temporal_connection import (
    TemporalSettings,
    address_from_temporal_server,
    connect,
)


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("temporal", "temporal:7233"),
        ("10.0.0.5:7234", "10.0.0.5:7234"),
        ('"10.0.0.5"', "10.0.0.5:7233"),
        ("fd00::5", "[fd00::5]:7233"),
        ("[fd00::5]", "[fd00::5]:7233"),
        ("[fd00::5]:7000", "[fd00::5]:7000"),
    ],
)
def test_temporal_server_forms(value: str, address: str) -> None:
    assert address_from_temporal_server(value) == address


@pytest.mark.parametrize("value", ["", "host:port", ":7233"])
def test_bad_temporal_server(value: str) -> None:
    with pytest.raises(UserError, match="TEMPORAL_SERVER"):
        address_from_temporal_server(value)


def test_defaults() -> None:
    settings = TemporalSettings.load(env={})
    assert (settings.address, settings.namespace, settings.api_key) == (
        "localhost:7233",
        "default",
        None,
    )
    assert settings.tls is False


def test_precedence_flag_then_address_then_server() -> None:
    env = {"TEMPORAL_ADDRESS": "a:1", "TEMPORAL_SERVER": "b", "TEMPORAL_NAMESPACE": "ns"}
    assert TemporalSettings.load(env=env).address == "a:1"
    assert TemporalSettings.load(env=env).namespace == "ns"
    assert TemporalSettings.load(address="c:3", namespace="x", env=env).address == "c:3"
    assert TemporalSettings.load(env={"TEMPORAL_SERVER": "b"}).address == "b:7233"


def test_api_key_turns_tls_on() -> None:
    settings = TemporalSettings.load(env={"TEMPORAL_ADDRESS": "x:7233", "TEMPORAL_API_KEY": "k"})
    assert settings.api_key == "k"
    assert settings.tls is not False
    assert "k" not in settings.describe()


def test_tls_files_are_read(tmp_path: Path) -> None:
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text(f"-----{name}-----")
    settings = TemporalSettings.load(
        env={
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(tmp_path / "ca.pem"),
            "TEMPORAL_TLS_CLIENT_CERT_PATH": str(tmp_path / "cert.pem"),
            "TEMPORAL_TLS_CLIENT_KEY_PATH": str(tmp_path / "key.pem"),
        }
    )
    assert not isinstance(settings.tls, bool)
    assert settings.tls.client_cert == b"-----cert.pem-----"
    assert settings.tls.server_root_ca_cert == b"-----ca.pem-----"


def test_missing_tls_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(UserError, match=f"Temporal TLS file not found: {missing}"):
        TemporalSettings.load(env={"TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(missing)})


async def test_connect_failure_is_one_line() -> None:
    with pytest.raises(TemporalUnreachable) as caught:
        await connect(TemporalSettings(address="127.0.0.1:1"))
    assert str(caught.value) == (
        "cannot reach Temporal at 127.0.0.1:1 (namespace default): connection refused"
    )
    assert "\n" not in str(caught.value)


async def test_unknown_namespace_is_one_line(temporal_address: str) -> None:
    with pytest.raises(UserError) as caught:
        await connect(TemporalSettings(address=temporal_address, namespace="nope"))
    assert str(caught.value) == (
        f"namespace 'nope' does not exist on Temporal at {temporal_address}"
    )
