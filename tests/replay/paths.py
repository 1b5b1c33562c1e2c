"""The workflow paths that have a recorded history, and where the histories live."""

from __future__ import annotations

from pathlib import Path

HISTORIES = Path(__file__).parents[1] / "fixtures" / "histories"

# One recorded history per path (tests/fixtures/histories/<name>.json); the replay test
# fails if one is missing.
PATHS = (
    "happy",
    "make-before-break",
    "dry-run",
    "no-op",
    "refusal",
    "verification-timeout-rollback",
    "cancel-during-verification",
    "compensation-after-crash",
    "evacuation",
    "evacuation-continued",
)


def history_file(name: str) -> Path:
    """The fixture file of one path."""
    return HISTORIES / f"{name}.json"
