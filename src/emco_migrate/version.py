"""What ``--version`` prints: the package version and the source revision it was built from.

The revision comes from where it honestly can: the file the image build writes
(`REVISION_FILE`, from the Dockerfile's REVISION build argument), else the git checkout the
code runs from (an editable install), else ``unknown``.
"""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emco_migrate import __version__

# Written next to this module by build/docker/Dockerfile before the wheel is built.
REVISION_FILE = "revision.txt"
PACKAGE_DIR = Path(__file__).resolve().parent
UNKNOWN = "unknown"
SHORT = 12  # hex digits shown of a commit ID


def revision(package_dir: Path = PACKAGE_DIR) -> str:
    """The revision of the code in ``package_dir``: the build's, git's, or ``unknown``."""
    try:
        built = (package_dir / REVISION_FILE).read_text().strip()
    except (OSError, UnicodeDecodeError):
        built = ""
    if built and built != UNKNOWN:
        return _short(built)
    return git_revision(package_dir) or UNKNOWN


def _short(value: str) -> str:
    is_commit = len(value) == 40 and all(c in "0123456789abcdef" for c in value.lower())
    return value[:SHORT] if is_commit else value


def git_revision(package_dir: Path) -> str | None:
    """HEAD of the git checkout ``package_dir`` is tracked in (``-dirty`` with uncommitted
    changes to tracked files), or None: not in git, or only inside an unrelated repository
    (e.g. an installed copy in a virtualenv that lives in one)."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(package_dir), *args],
            capture_output=True, text=True, timeout=5, check=False,
        )  # fmt: skip

    try:
        if git("ls-files", "--error-unmatch", "--", "__init__.py").returncode != 0:
            return None
        head = git("rev-parse", f"--short={SHORT}", "HEAD")
        if head.returncode != 0:
            return None
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):  # no git, or it hung
        return None
    dirty = changed.returncode != 0 or bool(changed.stdout.strip())
    return head.stdout.strip() + ("-dirty" if dirty else "")


def version_line(program: str) -> str:
    """``emco-migrate 0.1.0 (revision abc1234def56)``."""
    return f"{program} {__version__} (revision {revision()})"


class VersionAction(argparse.Action):
    """``--version``: print `version_line` and exit 0; the revision is looked up only then."""

    def __init__(
        self,
        option_strings: Sequence[str],
        program: str,
        dest: str = argparse.SUPPRESS,
        default: Any = argparse.SUPPRESS,
        help: str = "show the version and the source revision, then exit",
    ) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)
        self.program = program

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(version_line(self.program), flush=True)
        parser.exit()


def add_version_argument(parser: argparse.ArgumentParser, program: str) -> None:
    """``--version`` on ``parser``, naming ``program``."""
    parser.add_argument("--version", action=VersionAction, program=program)
