"""Every command's --help ends with the environment variables it reads, its exit codes and
examples; the variables are checked against what the code reads, found by reading the code."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import emco_migrate
from emco_migrate import cli

SRC = Path(emco_migrate.__file__).parent
GUIDE = SRC.parents[1] / "docs" / "Migrate_Workflow.md"
NAME = r"(?:EMCO_MIGRATE|TEMPORAL)_[A-Z0-9_]+"
# Where code touches the process environment.
READS_ENVIRONMENT = re.compile(r"os\.environ|getenv\(|\benviron\.get\(|\benviron\[|in environ\b")
SECTIONS = ("environment variables:", "exit status:", "examples:")


def source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    return Path(spec.origin).read_text()


def constants() -> dict[str, str]:
    """Every ``NAME = "EMCO_MIGRATE_..."`` (or TEMPORAL_...) constant in the package."""
    found: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        found.update(re.findall(rf'^(\w+) = "({NAME})"$', path.read_text(), re.M))
    return found


def read_directly(text: str) -> set[str]:
    """Variables ``text`` reads from ``os.environ`` (or an ``environ`` standing in for it),
    by literal name or through a constant."""
    names = constants()
    found = set()
    for literal, name in re.findall(
        rf'(?:environ\.get\(|environ\[|getenv\()\s*(?:"({NAME})"|(?:\w+\.)?(\w+))', text
    ):
        found.add(literal or names.get(name, ""))
    for name in re.findall(r"(?:\w+\.)?(\w+) in environ\b", text):
        found.add(names.get(name, ""))
    return found - {""}


def temporal_variables() -> set[str]:
    """What TemporalSettings.load reads: the variables of the guide's table (section 5.1,
    temporalio.envconfig's), and those temporal_connection.py reads itself."""
    guide = GUIDE.read_text()
    table = guide[guide.index("### 5.1") : guide.index("### 5.2")]
    code = source("emco_migrate.temporal_connection")
    code = re.sub(r"^ENVIRONMENT = \(.*?^\)$", "", code, flags=re.S | re.M)  # the help's own
    return set(re.findall(r"TEMPORAL_[A-Z_]+[A-Z]", table)) | set(
        re.findall(r'"(TEMPORAL_[A-Z0-9_]+)"', code)
    )


# Functions and classes that read the environment on a command's behalf, by the calls that
# reach them, and the module where they do.
READERS = {
    r"\b(?:temporal_settings|TemporalSettings\.load)\(": "emco_migrate.temporal_connection",
    r"\btask_queue_from\(": "emco_migrate.task_queue",
    r"\b(?:EmcoUrlPolicy\.from_sources|MigrateWorkflowClient)\(": (
        "emco_migrate.emcomigrate.endpoints"
    ),
    r"\bLocalStack\(": "emco_migrate.devstack.stack",
}


def reader_variables(module: str) -> set[str]:
    if module == "emco_migrate.temporal_connection":
        return temporal_variables()
    if module == "emco_migrate.devstack.stack":  # hands its environment on, TEMPORAL_* out
        return {"EMCO_MIGRATE_*", "TEMPORAL_*"}
    return read_directly(source(module))


def variables_read_by(module: str) -> set[str]:
    """What the command module reads itself, what the readers it calls read, and the
    global options' variables (cli.py)."""
    text = source(module)
    found = read_directly(text) | read_directly(source("emco_migrate.cli"))
    for call, reader in READERS.items():
        if re.search(call, text):
            found |= reader_variables(reader)
    return found


def listed_variables(help_text: str) -> set[str]:
    section = help_text.split("environment variables:", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"\b[A-Z][A-Z0-9_]*_(?:[A-Z0-9]+|\*)(?:<NAME>)?", section))


def help_of(name: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.main([name, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_every_module_that_reads_the_environment_is_accounted_for() -> None:
    """A new place that reads a variable must be a command's module or one of READERS, so
    the check below sees it."""
    commands = set(cli.SUBCOMMANDS.values()) | {"emco_migrate.cli"}
    readers = set(READERS.values())
    for path in SRC.rglob("*.py"):
        module = ".".join(("emco_migrate", *path.relative_to(SRC).with_suffix("").parts))
        if READS_ENVIRONMENT.search(path.read_text()):
            assert module in commands | readers, f"{module} reads the environment"


@pytest.mark.parametrize("name", sorted(cli.SUBCOMMANDS))
def test_help_has_environment_exit_status_and_examples(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of(name, capsys)
    for section in SECTIONS:
        assert f"\n{section}\n" in text, f"{name} --help has no {section!r}"
    codes = re.findall(r"^  (\d+) +\S", text.split("exit status:", 1)[1], re.M)
    assert {"0", "2"} <= set(codes), codes
    examples = text.split("examples:\n", 1)[1].splitlines()
    assert examples and all("emco-migrate" in line for line in examples), examples


@pytest.mark.parametrize("module", sorted(set(cli.SUBCOMMANDS.values())))
def test_help_lists_every_variable_the_command_reads(
    module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each variable its module reads is listed by the command. A module serving several
    commands (evacuate and its controls) is read as a whole: each of its variables is
    listed by one of them at least, the global and Temporal ones by every one."""
    commands = sorted(n for n, m in cli.SUBCOMMANDS.items() if m == module)
    listed = {n: listed_variables(help_of(n, capsys)) for n in commands}
    everyone = read_directly(source("emco_migrate.cli"))
    if re.search(next(iter(READERS)), source(module)):
        everyone |= temporal_variables()
    for variable in variables_read_by(module):
        holders = [n for n in commands if variable in listed[n]]
        if len(commands) == 1 or variable in everyone:
            assert holders == commands, f"{variable} is missing from the help of {commands}"
        else:
            assert holders, f"{variable} is in no help of {commands}"


def test_the_readers_are_found_where_they_are_used() -> None:
    """The check is not vacuous: the worker reads its own variables, the Temporal ones,
    the task queue's and the allowlist's."""
    read = variables_read_by("emco_migrate.worker.main")
    assert {
        "EMCO_MIGRATE_DRAIN_TIMEOUT",
        "EMCO_MIGRATE_TASK_QUEUE",
        "EMCO_MIGRATE_ALLOW_EMCO_URLS",
        "EMCO_MIGRATE_LOG_FORMAT",
        "TEMPORAL_ADDRESS",
        "TEMPORAL_TLS_SERVER_NAME",
        "TEMPORAL_SERVER",
    } <= read
    assert "EMCO_MIGRATE_TASK_QUEUE" not in variables_read_by(cli.SUBCOMMANDS["status"])


def exit_codes_in_help(text: str) -> dict[int, str]:
    table = text.split("exit status:\n", 1)[1].split("\n\n", 1)[0]
    codes: dict[int, str] = {}
    for line in table.splitlines():
        if match := re.match(r"  (\d+) +(.*)", line):
            code = int(match[1])
            codes[code] = match[2]
        else:
            codes[code] += " " + line.strip()
    return codes


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["cancel", "w", "--terminate", "--wait"], "--wait with --terminate"),
        (["emco-sim", "--db", "/dev/null"], "a --db it cannot use"),
        (["status", "w", "--address", "127.0.0.1:{closed}"], "Temporal did not answer"),
        (["worker", "--metrics-port", "{busy}", "--address", "127.0.0.1:{closed}"], "in use"),
        (["evacuate", "--emco-url", "http://e", "--cluster", "c1"], "nothing was started"),
    ],
)
def test_exit_codes_in_the_help_are_what_the_commands_return(
    args: list[str], says: str, busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        closed = sock.getsockname()[1]
    argv = [a.format(busy=busy_port, closed=closed) for a in args]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "EMCO_"))}
    done = subprocess.run(
        [sys.executable, "-m", "emco_migrate", *argv],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    meaning = exit_codes_in_help(help_of(args[0], capsys)).get(done.returncode, "")
    assert says in meaning, (done.returncode, done.stderr)


def test_migrate_workflowclient_help_has_the_sections(capsys: pytest.CaptureFixture[str]) -> None:
    from emco_migrate.workflowclients.migrate_workflowclient.main import main

    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for section in SECTIONS:
        assert f"\n{section}\n" in text
    assert "migrate_workflowclient -a spec.json" in text
    # Its own parser has no --log-level or --log-format: those of cli.py do not apply.
    module = "emco_migrate.workflowclients.migrate_workflowclient.main"
    read = variables_read_by(module) - read_directly(source("emco_migrate.cli"))
    assert read and read <= listed_variables(text)
