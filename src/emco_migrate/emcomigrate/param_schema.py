"""The declared schema of ``activityParams["all-activities"]``: every key the migration reads,
its kind, bounds, default and doc line, declared once.

`MigrationParams.from_activity_params` reads the params through it; the workflow clients
use it to refuse a request before anything starts, the workflow again before any write,
and the guide's parameter table is checked against it (tests/emcomigrate/test_param_schema.py).
Keys match exactly: a key that differs only in case or in ``-``/``_`` (``DryRun``,
``dry_run``) is refused naming the key it resembles, never silently ignored.
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emco_migrate.emcomigrate.endpoints import UrlRefused, base_url
from emco_migrate.emcomigrate.names import ALL_ACTIVITIES
from emco_migrate.wire.gojson import FieldError


class ParamError(FieldError):
    """Invalid workflow parameters; ``field`` names the culprit, ``reason`` says why."""


class Kind(enum.StrEnum):
    """How a parameter's string value is read."""

    URL = "url"
    NAME = "name"
    NAMES = "names"
    BOOL = "bool"
    CHOICE = "choice"
    SECONDS = "seconds"


# EMCO's resource name rule (its JSON schemas' name pattern: RFC-1123-ish, 1..128 characters;
# the emulator's `emcosim.schemas.NAME_PATTERN` is the same rule).
NAME_PATTERN = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
NAME_MAX = 128
# `apps` may list every app of a composite app; each name is checked as above.
APPS_MAX = 1000
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
MAX_VALUE_CHARS = 130_000  # apps: 1000 names of 128 characters and their commas


@dataclass(frozen=True)
class ParamSpec:
    """One key of ``activityParams["all-activities"]``."""

    name: str
    kind: Kind
    doc: str
    required: bool = False
    default: str = ""
    shown_default: str = ""  # how the guide shows a default that is not a value
    choices: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = 0

    @property
    def default_text(self) -> str:
        """The default as the guide's table shows it."""
        if self.required:
            return "required"
        return self.shown_default or self.default or "none"


DEFAULT_VERIFY_TIMEOUT_SECONDS = 600
# How long one step may keep retrying in all when activityOptions set no bound of their own
# (no ScheduleToCloseTimeout and unlimited MaximumAttempts): then the run fails with the
# step's last error and undoes what it wrote, instead of retrying forever.
DEFAULT_STEP_BUDGET_SECONDS = 600
# How long a write we gave up on (timed out, or sent by a worker that died) may still reach
# EMCO, e.g. held by a slow proxy or a queued ingress. A retried /update or /rollback, and
# the compensation's final check, decide from EMCO's state only once this has passed.
DEFAULT_WRITE_SETTLE_SECONDS = 30


DAY = 86_400
STRATEGIES = ("direct", "make-before-break")

PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("emcoURL", Kind.URL, "EMCO orchestrator base URL", required=True),
    ParamSpec("project", Kind.NAME, "the DIG's project", required=True),
    ParamSpec("compositeApp", Kind.NAME, "the DIG's composite app", required=True),
    ParamSpec("compositeAppVersion", Kind.NAME, "the composite app's version", required=True),
    ParamSpec("deploymentIntentGroup", Kind.NAME, "the DIG whose apps move", required=True),
    ParamSpec("targetClusterProvider", Kind.NAME, "the target cluster's provider", required=True),
    ParamSpec("targetClusterName", Kind.NAME, "the target cluster", required=True),
    ParamSpec("apps", Kind.NAMES, "comma-separated app names to move", shown_default="all apps"),
    ParamSpec("sourceClusterProvider", Kind.NAME, "with sourceClusterName: move only its apps"),
    ParamSpec("sourceClusterName", Kind.NAME, "with sourceClusterProvider: move only its apps"),
    ParamSpec("dryRun", Kind.BOOL, "plan and report, write nothing", default="false"),
    ParamSpec("strategy", Kind.CHOICE, "how the apps move", default="direct", choices=STRATEGIES),
    ParamSpec(
        "verifyTimeoutSeconds",
        Kind.SECONDS,
        "how long each verification may take",
        default=str(DEFAULT_VERIFY_TIMEOUT_SECONDS),
        minimum=1,
        maximum=7 * DAY,
    ),
    ParamSpec("clmURL", Kind.URL, "EMCO clm base URL", shown_default="emcoURL"),
    ParamSpec("dcmURL", Kind.URL, "EMCO dcm base URL", shown_default="emcoURL"),
    ParamSpec(
        "stepBudgetSeconds",
        Kind.SECONDS,
        "how long one step may keep retrying when its options set no bound",
        default=str(DEFAULT_STEP_BUDGET_SECONDS),
        minimum=1,
        maximum=7 * DAY,
    ),
    ParamSpec(
        "writeSettleSeconds",
        Kind.SECONDS,
        "how long a write we gave up on may still reach EMCO",
        default=str(DEFAULT_WRITE_SETTLE_SECONDS),
        minimum=0,
        maximum=3_600,
    ),
)
BY_NAME: Mapping[str, ParamSpec] = {p.name: p for p in PARAMS}
REQUIRED = tuple(p.name for p in PARAMS if p.required)
FIELD_PREFIX = f"activityParams[{ALL_ACTIVITIES!r}]"


def _loose(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def closest(key: str, known: tuple[str, ...]) -> str | None:
    """The known key ``key`` was most likely meant to be (same letters in another case or
    with ``_``/``-``, else the nearest spelling), or None."""
    folded = {_loose(k): k for k in known}
    if _loose(key) in folded:
        return folded[_loose(key)]
    near = difflib.get_close_matches(_loose(key), list(folded), n=1, cutoff=0.75)
    return folded[near[0]] if near else None


def unknown_key(field: str, key: str, known: tuple[str, ...], what: str) -> ParamError:
    """The error for a key nobody reads: names it and, when there is one, its look-alike."""
    guess = closest(key, known)
    hint = f"; did you mean {guess!r}?" if guess else f" (known: {', '.join(known)})"
    return ParamError(field, f"unknown {what} {key!r}{hint}")


def values(
    activity_params: Mapping[str, Mapping[str, str] | None] | None, *, strict: bool = True
) -> dict[str, Any]:
    """Every parameter's typed value, its default where absent (None when it has none), read
    once; raises `ParamError` for the first problem. ``strict`` also refuses unknown keys,
    per-activity entries and oversized values (runs started before the schema are read
    without it: their unknown keys were never read)."""
    params = activity_params or {}
    raw = params.get(ALL_ACTIVITIES)
    if raw is None:
        raise ParamError(FIELD_PREFIX, f"missing; it must hold {', '.join(REQUIRED)}")
    if strict:
        _check_keys(params, raw)
    missing = [key for key in REQUIRED if not raw.get(key, "").strip()]
    if missing:
        raise ParamError(FIELD_PREFIX, f"missing required parameters: {', '.join(missing)}")
    typed = {}
    for spec in PARAMS:
        value = read(spec, raw.get(spec.name))
        typed[spec.name] = read(spec, spec.default) if value is None else value
    return typed


def _check_keys(params: Mapping[str, Mapping[str, str] | None], raw: Mapping[str, str]) -> None:
    for key in params:
        if key != ALL_ACTIVITIES:
            # The Go reference reads only all-activities; a per-activity entry would be
            # silently unused, so it is refused like any other unknown key.
            raise ParamError(
                f"activityParams[{key!r}]",
                f"is not read: every parameter goes under {ALL_ACTIVITIES!r}",
            )
    names = tuple(BY_NAME)
    for key, value in raw.items():
        if key not in BY_NAME:
            raise unknown_key(f"{FIELD_PREFIX}.{key}", key, names, "parameter")
        if not isinstance(value, str):
            raise ParamError(f"{FIELD_PREFIX}.{key}", "must be a string")
        if len(value) > MAX_VALUE_CHARS:
            raise ParamError(
                f"{FIELD_PREFIX}.{key}",
                f"is {len(value)} characters long (at most {MAX_VALUE_CHARS})",
            )


def read(spec: ParamSpec, value: str | None) -> str | bool | int | tuple[str, ...] | None:
    """The typed value of one parameter (None when it is absent or empty); raises
    `ParamError` naming the field when the value is not one the schema allows."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    field = f"{FIELD_PREFIX}.{spec.name}"
    if spec.kind is Kind.URL:
        try:
            return base_url(text)
        except UrlRefused as err:
            raise ParamError(field, str(err)) from None
    if spec.kind is Kind.NAME:
        return _name(text, field)
    if spec.kind is Kind.NAMES:
        names = tuple(dict.fromkeys(a.strip() for a in text.split(",") if a.strip()))
        if len(names) > APPS_MAX:
            raise ParamError(field, f"lists {len(names)} apps (at most {APPS_MAX})")
        for name in names:
            _name(name, field)
        return names or None
    if spec.kind is Kind.BOOL:
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise ParamError(field, f'must be "true" or "false", got {value!r}')
    if spec.kind is Kind.CHOICE:
        if text not in spec.choices:
            raise ParamError(field, f"must be one of {', '.join(spec.choices)}, got {value!r}")
        return text
    return _seconds(spec, text, field)


def _name(text: str, field: str) -> str:
    if len(text) > NAME_MAX:
        raise ParamError(
            field, f"is {len(text)} characters long; EMCO names have at most {NAME_MAX}"
        )
    if not NAME_PATTERN.fullmatch(text):
        raise ParamError(
            field,
            f"{text!r} is not an EMCO name (letters, digits and inner '-', '_', '.'; "
            "starting and ending with a letter or digit)",
        )
    return text


def _seconds(spec: ParamSpec, text: str, field: str) -> int:
    if not re.fullmatch(r"[-+]?[0-9]+", text):
        raise ParamError(field, f"must be a whole number of seconds, got {_short(text)}")
    # Twelve digits are far past every bound; longer numbers are never turned into ints.
    number = int(text) if len(text) <= 12 else None
    if number is None or not spec.minimum <= number <= spec.maximum:
        raise ParamError(
            field,
            f"must be between {spec.minimum} and {spec.maximum} seconds, got {_short(text)}",
        )
    return number


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")
