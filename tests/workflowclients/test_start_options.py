"""Go start options -> `Client.start_workflow` arguments, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.common import (
    SearchAttributeIndexedValueType,
    SearchAttributeKey,
    WorkflowIDReusePolicy,
)

from emco_migrate.wire.temporal import RetryPolicySpec, StartOptionsSpec, TemporalSpec
from emco_migrate.workflowclients.errors import InvalidSpec
from emco_migrate.workflowclients.start_options import (
    memo_payloads,
    start_settings,
    typed_search_attributes,
)

from .helpers import INVOKE_BODY

Kind = SearchAttributeIndexedValueType


def test_invoke_vector_maps_to_defaults_with_its_retry_policy() -> None:
    spec = TemporalSpec.from_json(INVOKE_BODY)

    settings = start_settings(spec.start_options)

    assert settings.id == "migrate-apps-1"
    assert settings.execution_timeout is None
    assert settings.run_timeout is None
    assert settings.task_timeout is None
    assert settings.id_reuse_policy is WorkflowIDReusePolicy.ALLOW_DUPLICATE
    assert settings.retry_policy is not None
    assert settings.retry_policy.maximum_attempts == 2
    assert settings.retry_policy.backoff_coefficient == 2.0
    assert settings.cron_schedule == ""
    assert settings.memo is None
    assert settings.search_attributes is None


def test_missing_id_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidSpec) as caught:
        start_settings(StartOptionsSpec(task_queue="MIGRATION_TASK_Q"))

    assert caught.value.field == "workflowStartOptions.ID"
    assert "required" in caught.value.reason


@pytest.mark.parametrize(
    ("go_value", "expected"),
    [
        (0, WorkflowIDReusePolicy.ALLOW_DUPLICATE),
        (1, WorkflowIDReusePolicy.ALLOW_DUPLICATE),
        (2, WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY),
        (3, WorkflowIDReusePolicy.REJECT_DUPLICATE),
    ],
)
def test_id_reuse_policy_integers(go_value: int, expected: WorkflowIDReusePolicy) -> None:
    settings = start_settings(StartOptionsSpec(id="w", id_reuse_policy=go_value))

    assert settings.id_reuse_policy is expected


@pytest.mark.parametrize("go_value", [4, -1, 99])
def test_unknown_id_reuse_policy_is_refused(go_value: int) -> None:
    with pytest.raises(InvalidSpec) as caught:
        start_settings(StartOptionsSpec(id="w", id_reuse_policy=go_value))

    assert caught.value.field == "workflowStartOptions.WorkflowIDReusePolicy"
    assert str(go_value) in caught.value.reason


def test_timeouts_are_nanoseconds_and_tiny_values_stay_set() -> None:
    settings = start_settings(
        StartOptionsSpec(
            id="w",
            execution_timeout_ns=3_600_000_000_000,
            run_timeout_ns=600_000_000_000,
            task_timeout_ns=10,
        )
    )

    assert settings.execution_timeout == timedelta(hours=1)
    assert settings.run_timeout == timedelta(minutes=10)
    assert settings.task_timeout == timedelta(microseconds=1)


def test_negative_timeout_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidSpec) as caught:
        start_settings(StartOptionsSpec(id="w", run_timeout_ns=-5))

    assert caught.value.field == "workflowStartOptions.WorkflowRunTimeout"
    assert "negative" in caught.value.reason


def test_invalid_retry_policy_is_refused_naming_the_field() -> None:
    spec = StartOptionsSpec(id="w", retry_policy=RetryPolicySpec(backoff_coefficient=0.5))

    with pytest.raises(InvalidSpec) as caught:
        start_settings(spec)

    assert caught.value.field == "workflowStartOptions.RetryPolicy.BackoffCoefficient"


def test_memo_values_are_the_bytes_go_would_send() -> None:
    spec = TemporalSpec.from_json(
        b'{"workflowStartOptions":{"ID":"w","Memo":'
        b'{"owner":"a&b","count":3,"ratio":1.5,"list":[true,null,"<x>"]}}}'
    )

    memo = memo_payloads(spec.start_options.memo)

    assert memo is not None
    assert {key: value.payload.data for key, value in memo.items()} == {
        "count": b"3",
        "list": b'[true,null,"\\u003cx\\u003e"]',
        "owner": b'"a\\u0026b"',
        "ratio": b"1.5",
    }
    assert all(v.payload.metadata["encoding"] == b"json/plain" for v in memo.values())


def test_nested_memo_objects_are_sent_with_sorted_keys() -> None:
    spec = TemporalSpec.from_json(
        b'{"workflowStartOptions":{"ID":"w","Memo":{"n":{"z":1,"a":[{"y":true,"b":null}]}}}}'
    )

    memo = memo_payloads(spec.start_options.memo)

    assert memo is not None
    assert memo["n"].payload.data == b'{"a":[{"b":null,"y":true}],"z":1}'


TYPES = {
    "Owner": Kind.KEYWORD,
    "Notes": Kind.TEXT,
    "Attempt": Kind.INT,
    "Score": Kind.DOUBLE,
    "Urgent": Kind.BOOL,
    "Deadline": Kind.DATETIME,
    "Tags": Kind.KEYWORD_LIST,
}


def test_search_attributes_take_the_registered_types() -> None:
    values: dict[str, Any] = {
        "Owner": "team-a",
        "Notes": "moved by EMCO",
        "Attempt": 3.0,  # Go decodes every JSON number as float64
        "Score": 2.5,
        "Urgent": True,
        "Deadline": "2024-05-01T12:00:00Z",
        "Tags": "one",
        "Unset": None,
    }

    typed = typed_search_attributes(values, TYPES)

    assert typed is not None
    assert typed[SearchAttributeKey.for_keyword("Owner")] == "team-a"
    assert typed[SearchAttributeKey.for_text("Notes")] == "moved by EMCO"
    assert typed[SearchAttributeKey.for_int("Attempt")] == 3
    assert typed[SearchAttributeKey.for_float("Score")] == 2.5
    assert typed[SearchAttributeKey.for_bool("Urgent")] is True
    assert typed[SearchAttributeKey.for_datetime("Deadline")] == datetime(
        2024, 5, 1, 12, tzinfo=UTC
    )
    assert typed[SearchAttributeKey.for_keyword_list("Tags")] == ["one"]
    assert len(typed) == 7


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("Attempt", 2.5, "whole number"),
        ("Attempt", "3", "whole number"),
        ("Owner", 7.0, "a string"),
        ("Urgent", "yes", "true or false"),
        ("Deadline", "2024-05-01T12:00:00", "RFC 3339"),
        ("Deadline", "tomorrow", "RFC 3339"),
        ("Tags", ["a", 1.0], "array of strings"),
        ("Score", {"x": 1}, "a number"),
    ],
)
def test_search_attribute_of_the_wrong_type_is_refused(
    name: str, value: Any, expected: str
) -> None:
    with pytest.raises(InvalidSpec) as caught:
        typed_search_attributes({name: value}, TYPES)

    assert caught.value.field == f"workflowStartOptions.SearchAttributes[{name!r}]"
    assert expected in caught.value.reason


def test_unregistered_search_attribute_is_refused() -> None:
    with pytest.raises(InvalidSpec) as caught:
        typed_search_attributes({"Nope": "x"}, TYPES)

    assert caught.value.field == "workflowStartOptions.SearchAttributes['Nope']"
    assert "not a custom search attribute registered" in caught.value.reason
