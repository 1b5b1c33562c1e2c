"""The custom search attributes the workflows set, so runs can be listed and filtered.

One catalogue: the workflows upsert them, the worker checks at start that the namespace has
them, the dev servers (`up`, `demo`, tests, benchmarks) register them, `list` queries them, and
the guide and the Helm docs print the `temporal operator search-attribute create` commands from
`create_commands`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from temporalio import workflow
from temporalio.common import (
    SearchAttributeIndexedValueType,
    SearchAttributeKey,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)

Key = SearchAttributeKey[Any]

DIG = SearchAttributeKey.for_keyword("EmcoMigrateDig")
PROJECT = SearchAttributeKey.for_keyword("EmcoMigrateProject")
# "provider+cluster", as EMCO names a cluster; an evacuation's source is the evacuated one.
SOURCE_CLUSTERS = SearchAttributeKey.for_keyword_list("EmcoMigrateSourceClusters")
TARGET_CLUSTER = SearchAttributeKey.for_keyword("EmcoMigrateTargetCluster")
STRATEGY = SearchAttributeKey.for_keyword("EmcoMigrateStrategy")
# "running" until the run ends, then its final phase (completed, rolled back, ...).
OUTCOME = SearchAttributeKey.for_keyword("EmcoMigrateOutcome")
# On a migration started by an evacuation: the evacuation's workflow ID.
EVACUATION_ID = SearchAttributeKey.for_keyword("EmcoMigrateEvacuationId")

ALL: tuple[Key, ...] = (
    DIG,
    PROJECT,
    SOURCE_CLUSTERS,
    TARGET_CLUSTER,
    STRATEGY,
    OUTCOME,
    EVACUATION_ID,
)

RUNNING = "running"

# The type names `temporal` and the server use for each attribute.
_TYPE_NAMES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}


def type_name(key: Key) -> str:
    """The attribute's type as `temporal operator search-attribute create --type` takes it."""
    return _TYPE_NAMES[key.indexed_value_type]


def dev_server_flags() -> list[str]:
    """`temporal server start-dev` arguments registering every attribute."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={type_name(key)}"]
    return flags


def create_commands(namespace: str, names: Iterable[str] | None = None) -> list[str]:
    """The commands an operator runs once per namespace to register the attributes (all,
    or the given ``names``), one per type."""
    wanted = set(names) if names is not None else {key.name for key in ALL}
    commands = []
    for kind in dict.fromkeys(type_name(key) for key in ALL):
        chosen = [key.name for key in ALL if type_name(key) == kind and key.name in wanted]
        if chosen:
            flags = " ".join(f"--name {name}" for name in chosen)
            commands.append(
                f"temporal operator search-attribute create --namespace {namespace} "
                f"--type {kind} {flags}"
            )
    return commands


def missing(registered: Mapping[str, object]) -> list[str]:
    """The attributes of `ALL` not among ``registered`` (name to type, as the server lists)."""
    return [key.name for key in ALL if key.name not in registered]


def updates(values: Mapping[str, str | list[str] | None]) -> list[SearchAttributeUpdate[Any]]:
    """Upserts for the given attribute names; a None or empty value is left out."""
    by_name = {key.name: key for key in ALL}
    result: list[SearchAttributeUpdate[Any]] = []
    for name, value in values.items():
        if value is None or value == "" or value == []:
            continue
        result.append(by_name[name].value_set(value))
    return result


def read(attributes: TypedSearchAttributes) -> dict[str, str | list[str]]:
    """Our attributes of a listed run, by name (absent ones left out)."""
    found: dict[str, str | list[str]] = {}
    ours = {key.name for key in ALL}
    for pair in attributes.search_attributes:
        if pair.key.name in ours:
            value = pair.value
            found[pair.key.name] = (
                [str(v) for v in value] if isinstance(value, list) else str(value)
            )
    return found


def quoted(value: str) -> str:
    """A string literal for a visibility query."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def upsert(values: Mapping[str, str | list[str] | None]) -> None:
    """In workflow code: set the given attributes of this run (None or empty: left alone)."""
    workflow.upsert_search_attributes(updates(values))


def record_end(outcome: str, memo: Mapping[str, Any]) -> None:
    """In workflow code: the run's outcome as `OUTCOME`, and in memo with ``memo`` and the
    seconds since the run started."""
    upsert({OUTCOME.name: outcome})
    seconds = (workflow.now() - workflow.info().start_time).total_seconds()
    workflow.upsert_memo({"phase": outcome, **memo, "seconds": round(seconds, 3)})
