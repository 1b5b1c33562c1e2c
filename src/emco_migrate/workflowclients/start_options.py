"""Go's `StartWorkflowOptions` (as EMCO sends them) mapped onto `Client.start_workflow`.

Zero means "unset" as in the Go SDK; durations go through `options.duration`, the retry
policy through `options.retry_policy`. Memo values are sent as the JSON bytes Go would
send. Go v1.13.1 sends search attributes untyped and lets the server apply the type the
namespace registered; the Python SDK needs typed keys, so the registered types are
looked up and each value is converted to its type, or refused with the field named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import (
    RawValue,
    RetryPolicy,
    SearchAttributeIndexedValueType,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError

from emco_migrate.wire import gojson
from emco_migrate.wire.options import OptionsError, duration, retry_policy
from emco_migrate.wire.temporal import StartOptionsSpec
from emco_migrate.workflowclients.errors import InvalidSpec, WorkflowStartRefused, as_unreachable

FIELD = "workflowStartOptions"

# enumspb.WorkflowIdReusePolicy: 0 (UNSPECIFIED) means AllowDuplicate in the Go SDK.
ID_REUSE_POLICIES: Mapping[int, WorkflowIDReusePolicy] = {
    0: WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    1: WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    2: WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    3: WorkflowIDReusePolicy.REJECT_DUPLICATE,
}

SearchAttributeTypes = Mapping[str, SearchAttributeIndexedValueType]


@dataclass(frozen=True)
class StartSettings:
    """Validated keyword arguments for `Client.start_workflow` (task queue excepted)."""

    id: str
    execution_timeout: timedelta | None = None
    run_timeout: timedelta | None = None
    task_timeout: timedelta | None = None
    id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE
    retry_policy: RetryPolicy | None = None
    cron_schedule: str = ""
    memo: Mapping[str, RawValue] | None = None
    search_attributes: TypedSearchAttributes | None = None

    def kwargs(self) -> dict[str, Any]:
        """The settings as `start_workflow` keyword arguments."""
        return {
            "id": self.id,
            "execution_timeout": self.execution_timeout,
            "run_timeout": self.run_timeout,
            "task_timeout": self.task_timeout,
            "id_reuse_policy": self.id_reuse_policy,
            "retry_policy": self.retry_policy,
            "cron_schedule": self.cron_schedule,
            "memo": self.memo,
            "search_attributes": self.search_attributes,
        }


def start_settings(
    spec: StartOptionsSpec, search_attribute_types: SearchAttributeTypes | None = None
) -> StartSettings:
    """Validate and convert Go start options; raises `InvalidSpec` naming the field.

    ``search_attribute_types`` maps the namespace's registered search attributes to
    their types (see `registered_search_attributes`); without it any search attribute in
    the spec is refused as unregistered.
    """
    if not spec.id:
        raise InvalidSpec(
            f"{FIELD}.ID",
            "is required: set workflowStartOptions.id in the workflow intent "
            "(the Go client would invent a random ID, which EMCO could never query)",
        )
    if spec.id_reuse_policy not in ID_REUSE_POLICIES:
        raise InvalidSpec(
            f"{FIELD}.WorkflowIDReusePolicy",
            f"{spec.id_reuse_policy} is not a WorkflowIdReusePolicy: use 0 or 1 "
            "(AllowDuplicate), 2 (AllowDuplicateFailedOnly) or 3 (RejectDuplicate)",
        )
    try:
        return StartSettings(
            id=spec.id,
            execution_timeout=duration(
                spec.execution_timeout_ns, f"{FIELD}.WorkflowExecutionTimeout"
            ),
            run_timeout=duration(spec.run_timeout_ns, f"{FIELD}.WorkflowRunTimeout"),
            task_timeout=duration(spec.task_timeout_ns, f"{FIELD}.WorkflowTaskTimeout"),
            id_reuse_policy=ID_REUSE_POLICIES[spec.id_reuse_policy],
            retry_policy=retry_policy(spec.retry_policy, f"{FIELD}.RetryPolicy"),
            cron_schedule=spec.cron_schedule,
            memo=memo_payloads(spec.memo),
            search_attributes=typed_search_attributes(
                spec.search_attributes, search_attribute_types or {}
            ),
        )
    except OptionsError as err:
        raise InvalidSpec(err.field, err.reason) from None


def memo_payloads(memo: Mapping[str, Any] | None) -> dict[str, RawValue] | None:
    """Memo values as ``json/plain`` payloads holding the bytes Go's converter would write."""
    if not memo:
        return None
    return {
        key: RawValue(
            Payload(
                metadata={"encoding": b"json/plain"},
                data=gojson.dump_bytes(gojson.sorted_deep(value)),
            )
        )
        for key, value in sorted(memo.items())
    }


async def registered_search_attributes(
    client: Client,
) -> dict[str, SearchAttributeIndexedValueType]:
    """The custom search attributes registered in the client's namespace, with their types."""
    try:
        response = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
    except (RPCError, RuntimeError) as err:
        if (unreachable := as_unreachable(err)) is not None:
            raise unreachable from err
        raise WorkflowStartRefused(
            f"cannot list the search attributes of namespace {client.namespace!r}: {err}"
        ) from err
    return {
        name: SearchAttributeIndexedValueType(int(kind))
        for name, kind in response.custom_attributes.items()
    }


def typed_search_attributes(
    values: Mapping[str, Any] | None, types: SearchAttributeTypes
) -> TypedSearchAttributes | None:
    """Untyped Go search attributes converted to their registered types.

    ``null`` values are left out (unset). Numbers arrive as Go float64, so an Int
    attribute accepts whole numbers only. Datetime values are RFC 3339 strings with a
    zone; a Keyword list accepts a string or an array of strings.
    """
    if not values:
        return None
    pairs: list[SearchAttributePair[Any]] = []
    for name in sorted(values):
        value = values[name]
        if value is None:
            continue
        field = f"{FIELD}.SearchAttributes[{name!r}]"
        kind = types.get(name)
        if kind is None:
            known = ", ".join(sorted(types)) or "none"
            raise InvalidSpec(
                field,
                f"{name!r} is not a custom search attribute registered in the namespace "
                f"(registered: {known})",
            )
        pairs.append(_search_attribute(name, kind, value, field))
    return TypedSearchAttributes(pairs) if pairs else None


def _search_attribute(
    name: str, kind: SearchAttributeIndexedValueType, value: Any, field: str
) -> SearchAttributePair[Any]:
    def refuse(expected: str) -> InvalidSpec:
        return InvalidSpec(
            field, f"{kind.name} search attribute needs {expected}, got {_describe(value)}"
        )

    kinds = SearchAttributeIndexedValueType
    if kind in (kinds.KEYWORD, kinds.TEXT):
        if not isinstance(value, str):
            raise refuse("a string")
        key: SearchAttributeKey[Any] = (
            SearchAttributeKey.for_keyword(name)
            if kind is kinds.KEYWORD
            else SearchAttributeKey.for_text(name)
        )
        return SearchAttributePair(key, value)
    if kind is kinds.KEYWORD_LIST:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise refuse("a string or an array of strings")
        return SearchAttributePair(SearchAttributeKey.for_keyword_list(name), list(items))
    if kind is kinds.BOOL:
        if not isinstance(value, bool):
            raise refuse("true or false")
        return SearchAttributePair(SearchAttributeKey.for_bool(name), value)
    if kind is kinds.INT:
        if not _is_number(value) or not float(value).is_integer():
            raise refuse("a whole number")
        whole = int(value)
        if not gojson.INT64[0] <= whole <= gojson.INT64[1]:
            raise refuse("a number in the int64 range")
        return SearchAttributePair(SearchAttributeKey.for_int(name), whole)
    if kind is kinds.DOUBLE:
        if not _is_number(value):
            raise refuse("a number")
        return SearchAttributePair(SearchAttributeKey.for_float(name), float(value))
    if kind is kinds.DATETIME:
        moment = _rfc3339(value)
        if moment is None:
            raise refuse("an RFC 3339 time with a zone, such as 2024-05-01T12:00:00Z")
        return SearchAttributePair(SearchAttributeKey.for_datetime(name), moment)
    raise InvalidSpec(field, f"search attributes of type {kind.name} are not supported")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _rfc3339(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {gojson.go_float(float(value))}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
