"""Paths the local tools cannot use fail in one line naming the path: `emco-sim --db`,
`up --state-dir`, run as real processes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from emco_migrate.devstack.processes import free_port


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "EMCO_"))}
    # A short timeout: a path wrongly accepted would start serving and never return.
    return subprocess.run(
        [sys.executable, "-m", "emco_migrate", *args],
        env=env, capture_output=True, text=True, timeout=20,
    )  # fmt: skip


def one_error_line(result: subprocess.CompletedProcess[str], command: str) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    prefix = f"emco-migrate {command}: error: "
    assert lines[0].startswith(prefix), lines[0]
    return lines[0].removeprefix(prefix)


@pytest.fixture
def regular_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, not a directory\n")
    return path


@pytest.fixture
def forbidden_dir(tmp_path: Path) -> Path:
    """A directory that cannot be created: under a read-only directory, or (for root, who
    ignores modes) under sysfs, where nobody may create one."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        return locked / "sub"
    probe = Path("/sys/kernel/emco-migrate-test")
    try:
        probe.mkdir()
    except OSError:
        return probe
    probe.rmdir()
    pytest.skip("this system lets root create directories in /sys/kernel")


def emco_sim(db: Path | str) -> subprocess.CompletedProcess[str]:
    return run_cli("emco-sim", "--port", str(free_port()), "--db", str(db))


# --- emco-sim --db ------------------------------------------------------------------------


def test_db_that_is_a_directory(tmp_path: Path) -> None:
    result = emco_sim(tmp_path)
    assert result.returncode == 1
    assert one_error_line(result, "emco-sim") == f"--db {tmp_path} is a directory"


def test_db_that_is_not_sqlite(regular_file: Path) -> None:
    result = emco_sim(regular_file)
    assert result.returncode == 1
    assert one_error_line(result, "emco-sim") == f"--db {regular_file} is not an SQLite database"
    assert regular_file.read_text() == "not a database, not a directory\n"  # left alone


def test_db_that_is_not_a_regular_file() -> None:
    result = emco_sim("/dev/null")
    assert result.returncode == 1
    assert one_error_line(result, "emco-sim") == "--db /dev/null is not a regular file"


def test_db_under_a_regular_file(regular_file: Path) -> None:
    db = regular_file / "state" / "emco.db"
    result = emco_sim(db)
    assert result.returncode == 1
    assert one_error_line(result, "emco-sim") == (
        f"--db {db}: cannot create its directory: {regular_file} is not a directory"
    )


def test_db_in_a_directory_that_cannot_be_created(forbidden_dir: Path) -> None:
    db = forbidden_dir / "emco.db"
    result = emco_sim(db)
    assert result.returncode == 1
    line = one_error_line(result, "emco-sim")
    assert line.startswith(f"--db {db}: cannot create its directory: ")
    assert line.endswith(f"({forbidden_dir})")


def test_db_directory_is_created_and_the_file_is_sqlite(tmp_path: Path) -> None:
    """The good case still works: nested directories are made (checked without serving)."""
    from emco_migrate.emcosim.main import open_state

    db = tmp_path / "a" / "b" / "emco.db"
    open_state(str(db)).close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1


# --- up --state-dir -----------------------------------------------------------------------


def test_state_dir_under_a_regular_file(regular_file: Path) -> None:
    state = regular_file / "stack"
    result = run_cli("up", "--state-dir", str(state))
    assert result.returncode == 1
    assert result.stdout == ""  # nothing started
    assert one_error_line(result, "up") == (
        f"--state-dir {state} cannot be used: {regular_file} is not a directory"
    )


def test_state_dir_that_is_a_regular_file(regular_file: Path) -> None:
    result = run_cli("up", "--state-dir", str(regular_file))
    assert result.returncode == 1
    assert one_error_line(result, "up") == (
        f"--state-dir {regular_file} cannot be used: {regular_file} is not a directory"
    )


def test_state_dir_that_cannot_be_created(forbidden_dir: Path) -> None:
    result = run_cli("up", "--state-dir", str(forbidden_dir))
    assert result.returncode == 1
    line = one_error_line(result, "up")
    assert line.startswith(f"--state-dir {forbidden_dir} cannot be used: ")
    assert f"({forbidden_dir}" in line


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (["--cluster", "cluster1"], "--cluster: 'cluster1' is not PROVIDER/CLUSTER"),
        (["--cluster", "p1/c1", "--to", "p1/c1"], "target: p1+c1 is the cluster being evacuated"),
        (["--cluster", "p1/c1", "--max-in-flight", "0"], "maxInFlight: must be 1..1000"),
        (["--cluster", "p1/c1", "--failure-budget", "150%"], "failureBudget: '150%' is not"),
        (["--cluster", "p1/c1", "--window-end", "saturday"], "windowEnd: 'saturday' is not"),
        (["--cluster", "p1/c1", "--write-settle", "7200"], "writeSettleSeconds: must be 0..3600"),
        (["--cluster", "p1/c1", "--emco-url", "http://u:p@emco"], "--emco-url: "),
    ],
)
def test_evacuate_refuses_bad_flags_in_one_line_before_connecting(
    flags: list[str], names: str
) -> None:
    # --address points nowhere: a refused request must fail before any connection.
    result = run_cli(
        "evacuate", "--emco-url", "http://emco:9015", *flags, "--address", "127.0.0.1:1"
    )
    assert result.returncode == 2, result.stderr
    assert one_error_line(result, "evacuate").startswith(names)


def test_cancel_wait_with_terminate_is_a_usage_error_before_connecting() -> None:
    result = run_cli("cancel", "some-id", "--terminate", "--wait", "--address", "127.0.0.1:1")
    assert result.returncode == 2
    assert one_error_line(result, "cancel") == (
        "--wait follows a cancellation; --terminate ends the workflow at once"
    )


def test_migrate_refuses_a_bad_flag_in_one_line_before_connecting() -> None:
    flags = ["--project", "p", "--composite-app", "ca", "--version", "v1", "--dig", "d"]
    result = run_cli(
        "migrate", "--emco-url", "http://emco:9015", *flags, "--to", "cluster2",
        "--address", "127.0.0.1:1",
    )  # fmt: skip
    assert result.returncode == 2
    assert one_error_line(result, "migrate") == "--to: 'cluster2' is not PROVIDER/CLUSTER"
    result = run_cli(
        "migrate", "--emco-url", "http://emco:9015", *flags, "--to", "p2/c2",
        "--verify-timeout", "0", "--address", "127.0.0.1:1",
    )  # fmt: skip
    assert result.returncode == 2
    assert one_error_line(result, "migrate").startswith(
        "workflowParams.activityParams['all-activities'].verifyTimeoutSeconds: "
    )
