"""The documented search-attribute commands are the ones the code registers and checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from emco_migrate.emcomigrate import search_attributes

ROOT = Path(__file__).resolve().parents[1]


def one_line(text: str) -> str:
    return " ".join(text.replace("\\\n", " ").split())


@pytest.mark.parametrize("doc", ["docs/Migrate_Workflow.md", "deployment/README.md"])
def test_the_docs_give_the_commands_the_worker_prints(doc: str) -> None:
    text = one_line((ROOT / doc).read_text())
    for command in search_attributes.create_commands("default"):
        assert one_line(command) in text
