"""bench.profile's arithmetic: shares of samples by code, and where perf's offsets start."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.profile import first_load_address, shares, table
from emco_migrate.devstack.processes import find_executable


def test_each_row_counts_the_samples_with_a_matching_frame_anywhere_in_the_stack() -> None:
    rows = (("visibility", r"visibilityQueue\w*\)\.Execute"), ("gc", r"gcBgMarkWorker"))
    stacks = [
        ("runtime.goexit;history.(*visibilityQueueTaskExecutor).Execute;sqlite.step", 3),
        ("runtime.gcBgMarkWorker", 1),
    ]
    assert shares(stacks, rows) == [0.75, 0.25]
    assert "75.0%    7.5  visibility" in table("t", rows, [0.75, 0.25], 10.0)


def test_perf_offsets_of_the_temporal_binary_start_at_its_first_segment() -> None:
    binary = find_executable("temporal", "install the dev extras").resolve()
    assert first_load_address(binary) == 0x400000  # a non-PIE Go executable


def test_something_that_is_not_an_elf_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("#!/bin/sh\n")
    with pytest.raises(SystemExit, match="not a 64-bit ELF"):
        first_load_address(tmp_path / "x")
