"""Replays every recorded history with the worker's workflows: a change that would break
in-flight migrations (a different order or kind of commands) fails here.

Histories are recorded by test_record_histories.py; see tests/fixtures/histories/README.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from emco_migrate.failures import DATA_CONVERTER
from emco_migrate.worker.main import workflow_classes

from .incompatible import TimerFirstWorkflow
from .paths import HISTORIES, PATHS, history_file

RECORDED = sorted(HISTORIES.glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    # The ID it was recorded under (an evacuation's child IDs derive from it), also for a
    # history kept as <path>.before-<patch>.json.
    name = path.stem.split(".before-")[0]
    return WorkflowHistory.from_json(f"replay-{name}", path.read_text())


def replayer(workflows: list[type]) -> Replayer:
    # The default sandbox, as in the worker tests: replay also checks determinism.
    return Replayer(workflows=workflows, data_converter=DATA_CONVERTER)


def test_every_path_has_a_recorded_history() -> None:
    assert RECORDED, f"no histories in {HISTORIES}"
    missing = [name for name in PATHS if not history_file(name).exists()]
    assert not missing, f"no recorded history for {missing}"


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
async def test_history_replays(path: Path) -> None:
    history = load(path)
    assert history.events, f"{path.name} holds no events"
    result = await replayer(workflow_classes()).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert result.replay_failure is None, (
        f"{path.name} no longer replays (guard the change with workflow.patched): "
        f"{result.replay_failure}"
    )


async def test_an_incompatible_workflow_fails_replay() -> None:
    result = await replayer([TimerFirstWorkflow]).replay_workflow(
        load(history_file("happy")), raise_on_replay_failure=False
    )
    assert isinstance(result.replay_failure, NondeterminismError)
