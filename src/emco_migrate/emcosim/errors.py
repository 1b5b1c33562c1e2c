"""Errors as EMCO produces them: module errors with Go-style wrapping, and their HTTP mapping.

Module code raises `ModuleError` with the text EMCO's Go module would return; each handler
family maps it the way its Go handler does (contract section 3): the orchestrator's
first-substring-wins table, the lifecycle handlers' logical-cloud table with root-cause
texts for 500s, and the fixed codes of the status handler and of workflowmgr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


class ModuleError(Exception):
    """An error of EMCO's module layer: the full wrapped message and its root cause."""

    def __init__(self, message: str, *, root: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.root = root if root is not None else message

    def wrap(self, prefix: str) -> ModuleError:
        """Like `pkgerrors.Wrap`: prefix the message, keep the root cause."""
        return ModuleError(f"{prefix}: {self.message}", root=self.root)


class HttpError(Exception):
    """Answer with this status and this text (sent as text/plain with a newline)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status} {text}")
        self.status = status
        self.text = text


GENERIC_500 = "The server encountered an internal error and was unable to complete your request."

# db-layer texts first, then src/orchestrator/api/apierrors.go, in order.
_DB_ERRORS: tuple[tuple[str, int, str], ...] = (
    ("db Find error", 500, "Error finding referencing resources"),
    ("db Remove error", 500, "Error removing referencing resources"),
    ("db Remove resource not found", 404, "The requested resource not found"),
    (
        "db Remove parent child constraint",
        409,
        "Cannot delete parent without deleting child references first",
    ),
    (
        "db Remove referential constraint",
        409,
        "Cannot delete without deleting or updating referencing resources first",
    ),
    ("db Insert error", 500, "Error adding or updating referencing resources"),
    (
        "db Insert parent resource not found",
        409,
        "Cannot perform requested operation. Parent resource not found",
    ),
)
_API_ERRORS: tuple[tuple[str, int], ...] = (
    ("Project not found", 404),
    ("CompositeProfile not found", 404),
    ("DeploymentIntentGroup not found", 404),
    ("Intent not found", 404),
    ("AppIntent not found", 404),
    ("Cluster not found", 404),
    ("GenericPlacementIntent not found", 404),
    ("LogicalCloud not found", 404),
    ("Controller not found", 404),
    ("Intent already exists", 409),
    ("AppIntent already exists", 409),
    ("AppProfile already exists", 409),
    ("AppProfile not found", 404),
    ("App already has an AppProfile", 409),
    ("App already exists", 409),
    ("App not found", 404),
    ("CompositeApp already exists", 409),
    ("CompositeApp not found", 404),
    ("CompositeProfile already exists", 409),
    ("DeploymentIntent already exists", 409),
    ("Project already exists", 409),
    ("Controller already exists", 409),
    ("The DeploymentIntentGroup is not updated", 409),
    ("AppDependency not found", 404),
)
_API_TEXTS = {
    "The DeploymentIntentGroup is not updated": (
        "The specified DeploymentIntentGroup is not in Created status"
    ),
}
_LC_ERRORS: tuple[tuple[str, int], ...] = (
    ("The specified Logical Cloud doesn't provide the mandatory clusters", 400),
    ("Failed to obtain Logical Cloud specified", 400),
    ("Logical Cloud is not currently applied", 409),
    ("Logical Cloud has never been applied", 409),
    ("Error reading Logical Cloud context", 500),
    ("No Qualified Clusters to deploy App", 500),
)


def orchestrator_error(err: ModuleError) -> HttpError:
    """`apierror.HandleErrors`: the first matching substring decides; else a generic 500."""
    for needle, status, text in _DB_ERRORS:
        if needle in err.message:
            return HttpError(status, text)
    for needle, status in _API_ERRORS:
        if needle in err.message:
            return HttpError(status, _API_TEXTS.get(needle, needle))
    return HttpError(500, GENERIC_500)


def lifecycle_error(err: ModuleError) -> HttpError:
    """Instantiate/update/rollback/migrate: logical-cloud table, then `HandleErrors`.

    A resulting 500 carries the root-cause text instead of the generic message.
    """
    for needle, status in _LC_ERRORS:
        if needle in err.message:
            return HttpError(status, needle)
    mapped = orchestrator_error(err)
    if mapped.status == 500:
        return HttpError(500, err.root)
    return mapped


def raw_error(err: ModuleError, status: int = 500) -> HttpError:
    """Handlers that write the full wrapped text with a fixed code (approve, status, ...)."""
    return HttpError(status, err.message)


@contextmanager
def mapped(mapper: Callable[[ModuleError], HttpError]) -> Iterator[None]:
    """Turn a `ModuleError` raised inside the block into the handler family's `HttpError`."""
    try:
        yield
    except ModuleError as err:
        raise mapper(err) from None
