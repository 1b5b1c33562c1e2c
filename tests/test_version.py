"""--version: the package version and the revision, from each source it can honestly come
from (the image build's file, the git checkout, else unknown). The image's own file is
tested on the built wheel in tests/deploy/test_entrypoints.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emco_migrate import __version__, cli
from emco_migrate.version import PACKAGE_DIR, REVISION_FILE, revision

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run([*GIT, "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A package directory tracked in a git repository of its own, committed once."""
    repo = tmp_path / "repo"
    package = repo / "src" / "emco_migrate"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('__version__ = "0.1.0"\n')
    git(repo, "init", "--quiet")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "one")
    return package


def test_the_image_builds_file_wins(checkout: Path) -> None:
    (checkout / REVISION_FILE).write_text("fedcba9876543210fedcba9876543210fedcba98\n")
    assert revision(checkout) == "fedcba987654"


def test_a_file_that_says_unknown_defers_to_git(checkout: Path) -> None:
    (checkout / REVISION_FILE).write_text("unknown\n")  # the Dockerfile's default REVISION
    assert revision(checkout) == git(checkout.parent.parent, "rev-parse", "--short=12", "HEAD")


def test_a_checkout_gives_its_head_and_says_when_it_is_modified(checkout: Path) -> None:
    head = git(checkout.parent.parent, "rev-parse", "--short=12", "HEAD")
    assert revision(checkout) == head
    (checkout / "__init__.py").write_text('__version__ = "0.2.0"\n')
    assert revision(checkout) == f"{head}-dirty"


def test_an_untracked_copy_inside_some_repository_is_unknown(checkout: Path) -> None:
    # e.g. an installed copy in a virtualenv that lives inside a git checkout
    installed = checkout.parent.parent / ".venv" / "site-packages" / "emco_migrate"
    installed.mkdir(parents=True)
    (installed / "__init__.py").write_text("")
    assert revision(installed) == "unknown"


def test_outside_git_without_a_file_it_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text("")
    assert revision(tmp_path) == "unknown"


def test_without_git_on_the_path_it_is_unknown(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(checkout))  # no git there
    assert revision(checkout) == "unknown"


def test_the_command_from_source_names_this_checkouts_head() -> None:
    if subprocess.run(["git", "-C", str(PACKAGE_DIR), "rev-parse"]).returncode != 0:
        pytest.skip("not running from a git checkout")
    head = git(PACKAGE_DIR, "rev-parse", "--short=12", "HEAD")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "EMCO_"))}
    done = subprocess.run(
        [sys.executable, "-m", "emco_migrate", "--version"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"emco-migrate {__version__} (revision {head}")
    assert done.stdout.rstrip().endswith((f"{head})", f"{head}-dirty)"))


@pytest.mark.parametrize("name", sorted(cli.SUBCOMMANDS))
def test_every_subcommand_shows_the_version(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([name, "--version"])
    out, err = capsys.readouterr()
    if name == "migrate":  # its --version is the composite app's (EMCO's word), required
        assert exited.value.code == 2
        assert "--version: expected one argument" in err
        return
    assert exited.value.code == 0
    assert out.startswith(f"emco-migrate {__version__} (revision ")


def test_migrate_help_says_where_the_program_version_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["migrate", "--help"])
    out = capsys.readouterr().out
    assert "the composite app's version" in out
    assert "emco-migrate --version    (the program's version" in out


def test_migrate_workflowclient_shows_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    from emco_migrate.workflowclients.migrate_workflowclient.main import main

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"migrate_workflowclient {__version__} (revision ")
