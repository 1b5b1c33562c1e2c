"""Go decoding, re-marshalling and gojsonschema messages, as EMCO's handlers run them."""

from __future__ import annotations

from typing import TypeVar

import pytest

from emco_migrate.emcosim import schemas
from emco_migrate.emcosim.api.placements import friendly_app_intent_error
from emco_migrate.emcosim.bodies import decode_bytes
from emco_migrate.emcosim.errors import HttpError
from emco_migrate.emcosim.jsonschema import schema_errors
from emco_migrate.emcosim.types.workflow import WorkflowIntent
from emco_migrate.wire.emco import AppIntent, DeploymentIntentGroup
from emco_migrate.wire.gojson import EmptyBody, FieldError, parse
from emco_migrate.wire.structs import encode, from_json, go_json

T = TypeVar("T")


def decode(cls: type[T], body: bytes) -> T:
    """A request body as EMCO's handlers decode it (`json.NewDecoder(r.Body).Decode`)."""
    return from_json(cls, body, first_value=True, keep_unknown=False)


DIG_SPEC = b'"compositeProfile":"p","version":"r1","logicalCloud":"default"'


def dig(body: bytes) -> DeploymentIntentGroup:
    return decode(DeploymentIntentGroup, (body))


def test_keys_match_case_insensitively_and_unknown_keys_are_dropped() -> None:
    found = dig(b'{"METADATA":{"Name":"d","junk":1},"spec":{"compositeprofile":"p","extra":[]}}')
    assert found.metadata.name == "d"
    assert found.spec.composite_profile == "p"
    assert encode(found) == {
        "metadata": {"name": "d", "description": "", "userData1": "", "userData2": ""},
        "spec": {
            "compositeProfile": "p",
            "version": "",
            "logicalCloud": "",
            "overrideValues": None,
        },
    }


def test_last_duplicate_wins_and_nested_objects_merge() -> None:
    found = dig(
        b'{"metadata":{"name":"a"},"metadata":{"description":"d"},"spec":{"version":"1","Version":"2"}}'
    )
    assert (found.metadata.name, found.metadata.description) == ("a", "d")
    assert found.spec.version == "2"


def test_only_the_first_json_value_is_read() -> None:
    assert dig(b' {"metadata":{"name":"a"}} trailing garbage').metadata.name == "a"


@pytest.mark.parametrize("body", [b"", b"  \n\t"])
def test_empty_body_is_eof(body: bytes) -> None:
    with pytest.raises(EmptyBody):
        parse(body, first_value=True)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"spec":{"version":5}}', "json: cannot unmarshal number into Go struct field "
         "module.DepSpecData.spec.version of type string"),
        (b'{"spec":{"overrideValues":{}}}', "json: cannot unmarshal object into Go struct field "
         "module.DepSpecData.spec.overrideValues of type []module.OverrideValues"),
        (b"[1]", "json: cannot unmarshal array into Go value of type module.DeploymentIntentGroup"),
        (b'{"spec":', "unexpected EOF"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b"{x}", "invalid character 'x' looking for beginning of object key string"),
    ],
)  # fmt: skip
def test_undecodable_bodies_carry_gos_messages(body: bytes, message: str) -> None:
    with pytest.raises(FieldError) as err:
        dig(body)
    assert err.value.go_text == message


def test_integers_must_be_integer_literals() -> None:
    body = b'{"spec":{"workflowClient":{"clientEndpointPort":9090.5}}}'
    with pytest.raises(FieldError) as err:
        decode(WorkflowIntent, body)
    assert "number 9090.5 into Go struct field" in err.value.go_text


def test_missing_override_values_fail_the_schema_as_null() -> None:
    with pytest.raises(HttpError) as err:
        decode_bytes(
            b'{"metadata":{"name":"d"},"spec":{' + DIG_SPEC + b"}}",
            DeploymentIntentGroup,
            schemas.DEPLOYMENT_INTENT_GROUP,
        )
    assert (err.value.status, err.value.text) == (
        400,
        "Invalid Input:\nInvalid type. Expected: array, given: null",
    )


def test_missing_logical_cloud_fails_the_name_pattern() -> None:
    body = (
        b'{"metadata":{"name":"d"},'
        b'"spec":{"compositeProfile":"p","version":"r1","overrideValues":[]}}'
    )
    errors = schema_errors(schemas.DEPLOYMENT_INTENT_GROUP, encode(dig(body)))
    assert errors == [f"Does not match pattern '{schemas.NAME_PATTERN}'"]


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ({"allOf": [{"clusterProvider": "p"}]}, "Missing cluster or clusterLabel"),
        ({"anyOf": [{"cluster": "c"}]}, "Missing clusterProvider in an intent"),
        (
            {"anyOf": [{"clusterProvider": "p", "cluster": "c", "clusterLabel": "l"}]},
            "Only one of cluster name or cluster label allowed",
        ),
    ],
)
def test_app_intent_schema_errors_get_friendly_texts(intent: dict[str, object], text: str) -> None:
    import json

    body = json.dumps({"metadata": {"name": "ai"}, "spec": {"app": "a", "intent": intent}})
    with pytest.raises(HttpError) as err:
        decode_bytes(
            body.encode(), AppIntent, schemas.APP_INTENT, rewrite=friendly_app_intent_error
        )
    assert (err.value.status, err.value.text) == (400, text)


def test_app_intent_missing_app_and_name() -> None:
    no_app = decode(AppIntent, b'{"metadata":{"name":"x"},"spec":{}}')
    assert (
        friendly_app_intent_error("\n".join(schema_errors(schemas.APP_INTENT, encode(no_app))))
        == "Missing app for the intent"
    )
    no_name = decode(AppIntent, b'{"spec":{"app":"a"}}')
    assert (
        friendly_app_intent_error("\n".join(schema_errors(schemas.APP_INTENT, encode(no_name))))
        == "Missing name for the intent"
    )


def test_empty_placement_and_allof_with_nested_anyof_are_schema_valid() -> None:
    for intent in (b"{}", b'{"allOf":[{"anyOf":[{"clusterProvider":"p","clusterLabel":"l"}]}]}'):
        found = decode(
            AppIntent, b'{"metadata":{"name":"x"},"spec":{"app":"a","intent":' + intent + b"}}"
        )
        assert schema_errors(schemas.APP_INTENT, encode(found)) == []


def test_app_intents_omit_empty_fields() -> None:
    found = decode(
        AppIntent,
        b'{"metadata":{"name":"x"},"spec":{"app":"a","intent":{"anyOf":[{"clusterProvider":"p","clusterLabel":"l"}]}}}',
    )
    assert go_json(found) == (
        b'{"metadata":{"name":"x"},"spec":{"app":"a","intent":'
        b'{"anyOf":[{"clusterProvider":"p","clusterLabel":"l"}]}}}\n'
    )


def test_responses_use_go_escapes_and_sorted_maps() -> None:
    body = (
        b'{"metadata":{"name":"d","description":"a<b&c"},'
        b'"spec":{"overrideValues":[{"app":"x","values":{"z":"1","a":"2"}}]}}'
    )
    out = go_json(dig(body))
    assert b'"description":"a\\u003cb\\u0026c"' in out
    assert b'"values":{"a":"2","z":"1"}' in out
    assert out.endswith(b"}\n")


def test_activity_options_without_retry_policy_fail_the_workflow_schema() -> None:
    body = (
        b'{"metadata":{"name":"w"},"spec":{"workflowClient":{},"temporal":{"workflowStartOptions":'
        b'{"taskQueue":"Q"},"workflowParams":{"activityOptions":{"all-activities":{"startToCloseTimeout":1}}}}}}'
    )
    with pytest.raises(HttpError) as err:
        decode_bytes(body, WorkflowIntent, schemas.WORKFLOW_INTENT)
    assert err.value.text == "Invalid Input:\nInvalid type. Expected: object, given: null"


def test_temporal_spec_wire_errors_are_decode_errors() -> None:
    body = (
        b'{"metadata":{"name":"w"},'
        b'"spec":{"temporal":{"workflowStartOptions":{"WorkflowRunTimeout":"60s"}}}}'
    )
    with pytest.raises(FieldError) as err:
        decode(WorkflowIntent, body)
    # The nested spec is decoded like any other struct, so the message is Go's own: before the
    # one decoder it was a text round trip through a second parser with our message.
    assert err.value.go_text == (
        "json: cannot unmarshal string into Go struct field client.StartWorkflowOptions"
        ".spec.temporal.workflowStartOptions.WorkflowRunTimeout of type time.Duration"
    )
