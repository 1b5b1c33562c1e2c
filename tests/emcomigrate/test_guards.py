"""Exactly-once and "is it still ours?" decisions."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from emco_migrate.emcomigrate.dig_status import DigStatus
from emco_migrate.emcomigrate.error_types import ErrorType
from emco_migrate.emcomigrate.guards import (
    earlier_update,
    foreign_placement,
    placement_text,
    same_placement,
)

C1 = {"clusterProvider": "provider1", "cluster": "cluster1"}
C2 = {"clusterProvider": "provider2", "cluster": "cluster2"}


def at(revision: int, state: str = "Instantiated") -> DigStatus:
    return DigStatus.parse(
        {"states": {"actions": [{"state": state, "instance": "c", "revision": revision}]}}
    )


def test_update_is_posted_when_the_dig_is_at_the_base() -> None:
    assert earlier_update(at(3), 3, retry=False, dig="d") is None
    assert earlier_update(at(3), 3, retry=True, dig="d") is None


def test_a_retry_one_revision_past_the_base_is_the_earlier_attempts_update() -> None:
    assert earlier_update(at(4), 3, retry=True, dig="d") == 4


@pytest.mark.parametrize(
    ("status", "retry"), [(at(4), False), (at(5), True), (at(3, "Terminated"), False)]
)
def test_any_other_revision_is_another_writers(status: DigStatus, retry: bool) -> None:
    with pytest.raises(ApplicationError) as caught:
        earlier_update(status, 3, retry=retry, dig="d")
    assert caught.value.type == ErrorType.CHANGED_BY_OTHERS and caught.value.non_retryable


def test_placements_compare_without_cluster_order_or_empty_lists() -> None:
    assert same_placement({"allOf": [C1, C2]}, {"allOf": [C2, C1], "anyOf": []})
    assert not same_placement({"allOf": [C1]}, {"anyOf": [C1]})


def test_a_foreign_placement_says_what_was_found_and_what_this_run_left() -> None:
    assert foreign_placement("pi", {"allOf": [C2]}, [{"allOf": [C1]}, {"allOf": [C2]}]) is None
    c3 = {"clusterProvider": "provider3", "cluster": "cluster3"}
    problem = foreign_placement("pi", {"allOf": [c3]}, [{"allOf": [C1]}, {"allOf": [C2]}])
    assert problem == (
        "app intent pi now places allOf provider3+cluster3, not allOf provider1+cluster1 or "
        "allOf provider2+cluster2 as this run left it"
    )
    assert placement_text(None) == "no placement"
