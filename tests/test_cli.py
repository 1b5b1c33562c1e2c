"""The emco-migrate entry point: subcommands, log level, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from emco_migrate import cli


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "EMCO_"))}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "emco_migrate", *args],
        capture_output=True, text=True, timeout=60, env=environment,
    )  # fmt: skip


def test_help_lists_every_subcommand() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for name in cli.SUBCOMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("name", sorted(cli.SUBCOMMANDS))
def test_each_subcommand_has_help(name: str) -> None:
    result = run_cli(name, "--help")
    assert result.returncode == 0, result.stderr
    assert cli.SUMMARIES[name] in result.stdout


def test_log_level_from_the_environment() -> None:
    result = run_cli("worker", "--address", "127.0.0.1:1", EMCO_MIGRATE_LOG_LEVEL="debug")
    assert "DEBUG" in result.stderr
    bad = run_cli("worker", EMCO_MIGRATE_LOG_LEVEL="loud")
    assert bad.returncode == 2
    assert "EMCO_MIGRATE_LOG_LEVEL=LOUD is not one of DEBUG, INFO, WARNING, ERROR" in bad.stderr
