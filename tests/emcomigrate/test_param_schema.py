"""The declared activityParams schema: unknown and look-alike keys, values, bounds, and the
guide's parameter table agreeing with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emco_migrate.emcomigrate import param_schema
from emco_migrate.emcomigrate.param_schema import ParamError
from emco_migrate.emcomigrate.types import MigrationParams, Strategy

from .test_types import GOOD, parse

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "Migrate_Workflow.md"


def refusal(**extra: str) -> ParamError:
    with pytest.raises(ParamError) as caught:
        parse(**extra)
    return caught.value


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("DryRun", "dryRun"),
        ("dry_run", "dryRun"),
        ("dry-run", "dryRun"),
        ("EMCOURL", "emcoURL"),
        ("verifyTimeoutSecond", "verifyTimeoutSeconds"),
        ("strategie", "strategy"),
    ],
)
def test_a_look_alike_key_is_refused_naming_the_known_one(key: str, meant: str) -> None:
    err = refusal(**{key: "true"})
    assert err.field == f"activityParams['all-activities'].{key}"
    assert str(err).endswith(f"unknown parameter {key!r}; did you mean {meant!r}?")


def test_an_unknown_key_lists_the_known_ones() -> None:
    err = refusal(colour="blue")
    assert "unknown parameter 'colour'" in str(err) and "dryRun" in str(err)


def test_a_per_activity_entry_is_refused() -> None:
    with pytest.raises(ParamError, match=r"activityParams\['DoDigUpdate'\].*all-activities"):
        MigrationParams.from_activity_params({"all-activities": GOOD, "DoDigUpdate": {}})


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("strategy", "bogus", "must be one of direct, make-before-break"),
        ("dryRun", "maybe", 'must be "true" or "false"'),
        ("verifyTimeoutSeconds", "-5", "between 1 and 604800"),
        ("verifyTimeoutSeconds", "0", "between 1 and 604800"),
        ("verifyTimeoutSeconds", "300000000000", "between 1 and 604800"),
        ("verifyTimeoutSeconds", "1" + "0" * 20, "between 1 and 604800"),
        ("verifyTimeoutSeconds", "9" * 5000, "between 1 and 604800"),
        ("verifyTimeoutSeconds", "1e3", "whole number of seconds"),
        ("verifyTimeoutSeconds", "٣", "whole number of seconds"),
        ("stepBudgetSeconds", "604801", "between 1 and 604800"),
        ("writeSettleSeconds", "3601", "between 0 and 3600"),
        ("project", "proj/../x", "not an EMCO name"),
        ("project", "a" * 129, "at most 128"),
        ("apps", "good,bad app", "not an EMCO name"),
        ("targetClusterName", "-x", "not an EMCO name"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(key: str, value: str, reason: str) -> None:
    err = refusal(**{key: value})
    assert err.field == f"activityParams['all-activities'].{key}"
    assert reason in err.reason


def test_missing_required_params_are_listed_together() -> None:
    with pytest.raises(ParamError, match="missing required parameters: project, targetClusterName"):
        MigrationParams.from_activity_params(
            {
                "all-activities": {
                    k: v for k, v in GOOD.items() if k not in ("project", "targetClusterName")
                }
            }
        )


def test_defaults_and_bounds_that_pass() -> None:
    params = parse()
    assert (params.dry_run, params.strategy, params.verify_timeout_seconds) == (
        False, Strategy.DIRECT, 600
    )  # fmt: skip
    assert (params.step_budget_seconds, params.write_settle_seconds) == (600, 30)
    edge = parse(verifyTimeoutSeconds="604800", writeSettleSeconds="0", dryRun="TRUE")
    assert (edge.verify_timeout_seconds, edge.write_settle_seconds, edge.dry_run) == (
        604800,
        0,
        True,
    )


def test_lenient_reading_ignores_unknown_keys_but_not_bad_values() -> None:
    # For runs started before the schema: their unknown keys were never read.
    raw = {"all-activities": {**GOOD, "DryRun": "true"}}
    assert MigrationParams.from_activity_params(raw, strict=False).dry_run is False
    with pytest.raises(ParamError, match="strategy"):
        MigrationParams.from_activity_params(
            {"all-activities": {**GOOD, "strategy": "bogus"}}, strict=False
        )


def _guide_rows() -> dict[str, str]:
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split('`workflowParams.activityParams["all-activities"]`', 1)[1]
    table = section.split("\n\n", 2)[1]
    rows: dict[str, str] = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        for key in re.findall(r"`([A-Za-z]+)`", cells[0]):
            rows[key] = cells[1].strip("`")
    return rows


def test_the_guide_documents_every_parameter_with_its_default() -> None:
    rows = _guide_rows()
    assert set(rows) == set(param_schema.BY_NAME)
    for spec in param_schema.PARAMS:
        assert rows[spec.name] == spec.default_text, spec.name
