"""``emco-migrate completion SHELL``: the shell code that makes TAB complete the commands,
flags and choices of ``emco-migrate`` and ``migrate_workflowclient`` (argcomplete's).

The code calls the program itself on each TAB (argcomplete's ``_ARGCOMPLETE`` protocol,
answered in ``cli.main``), so completions always match the installed version.
"""

from __future__ import annotations

import argparse

from emco_migrate import cli_help
from emco_migrate.cli_help import HelpSections

HELP = "print the shell code that completes emco-migrate's commands on TAB"
SHELLS = ("bash", "zsh", "fish", "tcsh")
PROGRAMS = ("emco-migrate", "migrate_workflowclient")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The shell to print the code for."""
    parser.add_argument("shell", choices=SHELLS, help="the shell that will run the code")


def shell_code(shell: str) -> str:
    """The completion code for ``shell``."""
    from argcomplete.shell_integration import shellcode

    return shellcode(list(PROGRAMS), shell=shell)


def run(args: argparse.Namespace) -> int:
    """Print the code; the shell's startup file evaluates it."""
    print(shell_code(args.shell), end="")
    return 0


def help_sections(command: str) -> HelpSections:
    """Where the code goes, per shell."""
    return HelpSections(
        exit_codes={cli_help.OK: "the code was printed"},
        examples=(
            'eval "$(emco-migrate completion bash)"    # in ~/.bashrc',
            'eval "$(emco-migrate completion zsh)"     # in ~/.zshrc, after compinit',
            "emco-migrate completion fish > ~/.config/fish/completions/emco-migrate.fish",
        ),
    )
