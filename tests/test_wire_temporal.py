"""The Go wire format: vectors round-trip byte for byte, Go's decoding rules hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emco_migrate.wire import gojson, temporal
from emco_migrate.wire.gojson import FieldError
from emco_migrate.wire.temporal import MigParam, TemporalSpec

VECTORS = Path(__file__).parent / "fixtures" / "vectors"


def vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def test_invoke_body_round_trips_byte_for_byte() -> None:
    body = vector("invoke-body-04.json")
    spec = TemporalSpec.from_json(body)
    assert spec.workflow_client_name == "migrate_workflowclient"
    assert spec.start_options.id == "migrate-apps-1"
    assert spec.start_options.retry_policy is not None
    assert spec.start_options.retry_policy.maximum_attempts == 2
    options = spec.params.activity_options
    assert options is not None
    assert options["all-activities"].heartbeat_ns == 5_000_000
    assert options["all-activities"].retry_policy is not None
    assert options["all-activities"].retry_policy.initial_interval_ns == 10
    assert spec.to_json() == body


def test_workflow_input_is_the_invoke_bodys_params() -> None:
    params = temporal.decode_workflow_params(vector("workflow-input-04.json"))
    assert gojson.dump_bytes(params.encode()) == vector("workflow-input-04.json")
    spec = TemporalSpec.from_json(vector("invoke-body-04.json"))
    assert gojson.dump_bytes(spec.params.encode()) == vector("workflow-input-04.json")


@pytest.mark.parametrize(
    "name", ["workflow-result-example.json", "activity-input-GetDigAppIntents.json"]
)
def test_migparam_vectors_round_trip(name: str) -> None:
    assert MigParam.from_json(vector(name)).to_json() == vector(name)


def test_result_vector_decodes_to_pairs() -> None:
    param = MigParam.from_json(vector("workflow-result-example.json"))
    assert param.app_intents == {
        "dig1-placement-intent": (temporal.AppIntentRef("collectd", "collectd-placement-intent"),)
    }
    assert param.placement_intents is None


def test_minimal_intent_gives_go_invoke_body() -> None:
    # The minimal intent and the body workflowmgr sends for it (recorded from Go).
    spec = TemporalSpec.from_json(
        b'{"workflowClientName":"c","workflowStartOptions":{"id":"w1","taskQueue":"Q"}}'
    )
    assert spec.to_json() == (
        b'{"workflowClientName":"c","workflowStartOptions":{"ID":"w1","TaskQueue":"Q",'
        b'"WorkflowExecutionTimeout":0,"WorkflowRunTimeout":0,"WorkflowTaskTimeout":0,'
        b'"WorkflowIDReusePolicy":0,"WorkflowExecutionErrorWhenAlreadyStarted":false,'
        b'"RetryPolicy":null,"CronSchedule":"","Memo":null,"SearchAttributes":null},'
        b'"workflowParams":{}}'
    )


@pytest.mark.parametrize("key", ["ID", "id", "Id", "iD"])
def test_keys_match_case_insensitively(key: str) -> None:
    spec = TemporalSpec.from_json(f'{{"WORKFLOWSTARTOPTIONS":{{"{key}":"x"}}}}')
    assert spec.start_options.id == "x"


def test_unicode_folding_like_go() -> None:
    # Go's EqualFold folds the long s and the Kelvin sign.
    spec = TemporalSpec.from_json('{"workflowStartOptions":{"ta\u017fkQueue":"q"}}')
    assert spec.start_options.task_queue == "q"
    spec = TemporalSpec.from_json('{"workflowStartOptions":{"tas\u212aqueue":"q"}}')
    assert spec.start_options.task_queue == "q"


def test_underscores_do_not_match() -> None:
    spec = TemporalSpec.from_json('{"workflowStartOptions":{"task_queue":"q"}}')
    assert spec.start_options.task_queue == ""


def test_last_duplicate_wins_even_across_spellings() -> None:
    spec = TemporalSpec.from_json(
        '{"workflowStartOptions":{"ID":"first","id":"second","ID":"third"}}'
    )
    assert spec.start_options.id == "third"


def test_unknown_keys_are_ignored_and_not_forwarded() -> None:
    spec = TemporalSpec.from_json(
        '{"workflowClientName":"c","workflowParams":{"startToCloseTimeout":5},'
        '"workflowStartOptions":{"ID":"w","WorkflowIDConflictPolicy":1}}'
    )
    encoded = spec.to_json()
    assert b"startToCloseTimeout" not in encoded
    assert b"WorkflowIDConflictPolicy" not in encoded


def test_null_leaves_zero_values() -> None:
    spec = TemporalSpec.from_json(
        '{"workflowStartOptions":{"ID":null,"WorkflowRunTimeout":null,"RetryPolicy":null}}'
    )
    assert spec.start_options.id == ""
    assert spec.start_options.run_timeout_ns == 0
    assert spec.start_options.retry_policy is None


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ('{"workflowStartOptions":{"WorkflowRunTimeout":"60s"}}',
         "workflowStartOptions.WorkflowRunTimeout", "got string"),
        ('{"workflowStartOptions":{"WorkflowRunTimeout":6e10}}',
         "workflowStartOptions.WorkflowRunTimeout", "non-integer"),
        ('{"workflowStartOptions":{"WorkflowRunTimeout":1.0}}',
         "workflowStartOptions.WorkflowRunTimeout", "non-integer"),
        ('{"workflowStartOptions":{"WorkflowIDReusePolicy":"RejectDuplicate"}}',
         "workflowStartOptions.WorkflowIDReusePolicy", "got string"),
        ('{"workflowStartOptions":{"RetryPolicy":{"MaximumAttempts":3000000000}}}',
         "workflowStartOptions.RetryPolicy.MaximumAttempts", "out of range"),
        ('{"workflowParams":{"activityParams":{"all-activities":{"port":8080}}}}',
         "workflowParams.activityParams['all-activities']['port']", "got number"),
        ('{"workflowParams":{"activityOptions":{"all-activities":{"HeartbeatTimeout":true}}}}',
         "workflowParams.activityOptions['all-activities'].HeartbeatTimeout", "got bool"),
        ('{"workflowClientName":7}', "workflowClientName", "got number"),
        ('{"workflowStartOptions":[]}', "workflowStartOptions", "got array"),
    ],
)  # fmt: skip
def test_type_errors_name_the_field(body: str, field: str, reason: str) -> None:
    with pytest.raises(FieldError) as caught:
        TemporalSpec.from_json(body)
    assert caught.value.field == field
    assert reason in str(caught.value)


def test_malformed_json_is_a_wire_error() -> None:
    with pytest.raises(FieldError, match="malformed JSON"):
        TemporalSpec.from_json(b'{"workflowClientName":')


def test_negative_durations_are_accepted_and_re_emitted() -> None:
    spec = TemporalSpec.from_json('{"workflowStartOptions":{"WorkflowRunTimeout":-5}}')
    assert b'"WorkflowRunTimeout":-5' in spec.to_json()


def test_empty_activity_options_are_dropped_like_omitempty() -> None:
    spec = TemporalSpec.from_json(
        '{"workflowParams":{"activityOptions":{},"activityParams":{"a":{}}}}'
    )
    assert spec.to_json().endswith(b'"workflowParams":{"activityParams":{"a":{}}}}')


def test_memo_numbers_become_float64_as_in_go() -> None:
    spec = TemporalSpec.from_json(
        '{"workflowStartOptions":{"Memo":{"b":9007199254740993,"a":{"n":1e21,"x":[1,2]}}}}'
    )
    encoded = spec.to_json().decode()
    assert '"Memo":{"a":{"n":1e+21,"x":[1,2]},"b":9007199254740992}' in encoded


@pytest.mark.parametrize(
    ("value", "text"),
    [(2.0, "2"), (1.5, "1.5"), (1e21, "1e+21"), (1e-7, "1e-7"), (1e16, "10000000000000000"),
     (0.000001, "0.000001"), (123456.789, "123456.789"), (2.0**64, "18446744073709552000"),
     (1.23e-05, "0.0000123"), (100.0, "100")],
)  # fmt: skip
def test_floats_are_formatted_like_go(value: float, text: str) -> None:
    assert gojson.go_float(value) == text


def test_strings_are_escaped_like_go() -> None:
    expected = '"a\\u003cb\\u003e\\u0026c\\u2028\\u0008\\u000c\u00e9"'
    assert gojson.dumps("a<b>&c\u2028\b\f\u00e9") == expected


@pytest.mark.parametrize(
    ("text", "encoded"),
    [("C:\\b\\f", r'"C:\\b\\f"'), ("\\\b", r'"\\\u0008"'), ("<\\u2028>", r'"\u003c\\u2028\u003e"')],
)  # fmt: skip
def test_a_backslash_before_b_or_f_stays_a_backslash(text: str, encoded: str) -> None:
    # The text `\b` (a backslash, then "b") is not a backspace: it reads back as written.
    assert gojson.dumps(text) == encoded
    assert json.loads(encoded) == text


def test_a_duplicated_object_merges_into_the_first_as_in_go() -> None:
    # Go decodes a repeated key *into* what the first one gave: the two workflowStartOptions
    # objects merge. (gowire, the decoder before wire/, kept only the last object and lost ID.)
    spec = TemporalSpec.from_json(
        '{"workflowStartOptions":{"ID":"w","RetryPolicy":{"MaximumAttempts":2}},'
        '"workflowStartOptions":{"TaskQueue":"q","RetryPolicy":{"InitialInterval":10}}}'
    )
    assert (spec.start_options.id, spec.start_options.task_queue) == ("w", "q")
    assert spec.start_options.retry_policy is not None
    assert spec.start_options.retry_policy.maximum_attempts == 2
    assert spec.start_options.retry_policy.initial_interval_ns == 10


def test_a_bad_first_duplicate_is_an_error_as_in_go() -> None:
    # Go reports the first mismatch in document order, even when a later duplicate is fine.
    with pytest.raises(FieldError) as caught:
        TemporalSpec.from_json('{"workflowClientName":7,"workflowClientName":"c"}')
    assert caught.value.field == "workflowClientName"
    assert caught.value.go_text == (
        "json: cannot unmarshal number into Go struct field "
        "emcotemporalapi.WfTemporalSpec.workflowClientName of type string"
    )


def test_folding_is_one_character_to_one_as_in_go() -> None:
    assert gojson.fold("TaskQueue") == gojson.fold("taskqueue")
    assert gojson.fold("ta\u017fk") == gojson.fold("task")  # long s
    assert gojson.fold("stra\u00dfe") != gojson.fold("strasse")  # no ß -> ss expansion


def test_migparam_extensions_keep_integers_and_come_last() -> None:
    param = MigParam.from_json('{"NewRevision":3,"InParams":{"b":"2","a":"1"},"Note":[1.5]}')
    assert param.extensions == {"NewRevision": 3, "Note": [1.5]}
    assert param.to_json() == (
        b'{"InParams":{"a":"1","b":"2"},"GenericPlacementIntentURL":"",'
        b'"GenericPlacementIntents":null,"AppNameIntentPairs":null,"NewRevision":3,"Note":[1.5]}'
    )
