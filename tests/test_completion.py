"""Shell completion: `emco-migrate completion SHELL` prints argcomplete's code, and the
program answers the completion requests that code makes (driven here as bash drives it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
IFS = "\013"  # argcomplete's separator between candidates


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "EMCO_"))}
    return subprocess.run(
        [sys.executable, "-m", "emco_migrate", *args],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


def candidates(line: str, tmp_path: Path, program: str = "emco-migrate") -> list[str]:
    """What the program offers for the cursor at the end of ``line`` (argcomplete's
    protocol: the request in COMP_LINE/COMP_POINT, the answer in a file)."""
    answer = tmp_path / "answer"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "EMCO_"))}
    env |= {
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_SHELL": "bash",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
    }
    done = subprocess.run([str(BIN / program)], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return sorted(c.strip() for c in answer.read_text().split(IFS) if c.strip())


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_the_completion_code_is_printed_for_both_programs(shell: str) -> None:
    result = run_cli("completion", shell)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("#compdef emco-migrate migrate_workflowclient")
    assert "_python_argcomplete emco-migrate migrate_workflowclient" in result.stdout


def test_an_unknown_shell_is_a_usage_error() -> None:
    result = run_cli("completion", "powershell9")
    assert result.returncode == 2
    assert "invalid choice: 'powershell9'" in result.stderr


def test_a_subcommand_prefix_completes_to_the_subcommands(tmp_path: Path) -> None:
    assert candidates("emco-migrate ev", tmp_path) == ["evacuate"]
    assert candidates("emco-migrate c", tmp_path) == [
        "cancel",
        "cancel-failback",
        "completion",
    ]


def test_a_subcommands_flags_and_choices_complete(tmp_path: Path) -> None:
    assert candidates("emco-migrate status --wa", tmp_path) == ["--wait", "--watch"]
    assert candidates("emco-migrate status w1 -o j", tmp_path) == ["json"]
    assert candidates("emco-migrate list --ou", tmp_path) == ["--outcome", "--output"]
    assert candidates("emco-migrate --log-format j", tmp_path) == ["json"]
    assert candidates("emco-migrate completion z", tmp_path) == ["zsh"]


def test_migrate_workflowclient_completes_its_flags(tmp_path: Path) -> None:
    assert candidates("migrate_workflowclient --ta", tmp_path, "migrate_workflowclient") == [
        "--task-queue"
    ]


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completes_with_the_printed_code(tmp_path: Path) -> None:
    """The code as a user's bash runs it: sourced, then called for a TAB after `emco-migrate
    mig` (the programs found on PATH, as for a user)."""
    script = tmp_path / "emco-migrate.bash"
    script.write_text(run_cli("completion", "bash").stdout)
    tab = f"""
        source {script}
        COMP_LINE='emco-migrate mig'; COMP_POINT=${{#COMP_LINE}}
        COMP_WORDS=(emco-migrate mig); COMP_CWORD=1
        _python_argcomplete emco-migrate emco-migrate
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "EMCO_"))}
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    done = subprocess.run(["bash", "-c", tab], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == ["migrate", "migrate-back"]
