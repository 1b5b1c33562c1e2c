"""The sections every command's ``--help`` ends with: environment, exit status, examples.

Each subcommand module declares its own (`HelpSections`, from ``help_sections(command)``);
the CLI adds what every command shares (the global options' variables, usage and interrupt
exit codes) and renders them as the parser's epilog.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

from emco_migrate.errors import AddressInUse, TemporalUnreachable, UserError

WIDTH = 88  # columns of the rendered sections
NAME_COLUMN = 30

# Exit codes, as the commands use them (errors.py's classes and cli.main).
OK = 0
FAILED = UserError.exit_code
USAGE = 2  # argparse's, and every refusal of bad input (InvalidSpec)
UNREACHABLE = TemporalUnreachable.exit_code
ADDRESS_IN_USE = AddressInUse.exit_code
INTERRUPTED = 130
BROKEN_PIPE = 141
# How a command that talks to Temporal and may be interrupted can also end.
CLIENT_EXITS = {UNREACHABLE: "Temporal did not answer", INTERRUPTED: "interrupted (Ctrl-C)"}


@dataclass(frozen=True)
class Variable:
    """Environment variables that mean one thing (e.g. a certificate and its key)."""

    names: tuple[str, ...]
    meaning: str

    @classmethod
    def one(cls, name: str, meaning: str) -> Variable:
        return cls((name,), meaning)


@dataclass(frozen=True)
class HelpSections:
    """What a command reads from the environment, how it exits, and how it is used."""

    environment: tuple[Variable, ...] = ()
    exit_codes: dict[int, str] = field(default_factory=dict)
    examples: tuple[str, ...] = ()
    note: str = ""  # a paragraph before the sections

    def merged(self, common: HelpSections) -> HelpSections:
        """These sections after ``common``'s; this command's word on an exit code wins."""
        names = {n for v in self.environment for n in v.names}
        shared = tuple(v for v in common.environment if not names & set(v.names))
        return HelpSections(
            environment=(*shared, *self.environment),
            exit_codes=dict(sorted({**common.exit_codes, **self.exit_codes}.items())),
            examples=(*self.examples, *common.examples),
            note=self.note or common.note,
        )

    def variable_names(self) -> set[str]:
        return {n for v in self.environment for n in v.names}


def epilog(sections: HelpSections) -> str:
    """The sections as text for an ``argparse`` epilog (shown as written)."""
    parts: list[str] = []
    if sections.note:
        parts.append(textwrap.fill(sections.note, WIDTH))
    if sections.environment:
        parts.append(_table("environment variables:", _rows(sections.environment)))
    if sections.exit_codes:
        rows = [(str(code), text) for code, text in sections.exit_codes.items()]
        parts.append(_table("exit status:", rows))
    if sections.examples:
        parts.append("\n".join(["examples:", *(f"  {e}" for e in sections.examples)]))
    return "\n\n".join(parts)


def _rows(variables: Iterable[Variable]) -> list[tuple[str, str]]:
    return [(", ".join(v.names), v.meaning) for v in variables]


def _table(title: str, rows: list[tuple[str, str]]) -> str:
    # A name wider than the column puts its meaning on the next line, as argparse does.
    width = min(max(len(name) for name, _ in rows), NAME_COLUMN)
    indent = " " * (width + 4)
    lines = [title]
    for name, text in rows:
        wrapped = textwrap.wrap(text, WIDTH - len(indent)) or [""]
        if len(name) > width:
            lines.append(f"  {name}")
            lines.append(indent + wrapped[0])
        else:
            lines.append(f"  {name:{width}}  {wrapped[0]}")
        lines += [indent + more for more in wrapped[1:]]
    return "\n".join(lines)
