"""Every ApplicationError type this code raises, in one catalogue: what `status`, retry
policies (`NonRetryableErrorTypes`) and operators match on. The values are part of the
contract: recorded histories and running workflows carry them, so they never change."""

from __future__ import annotations

import enum


class ErrorType(enum.StrEnum):
    """ApplicationError types, by who raises them."""

    # EMCO calls (emco_client, endpoints, guards)
    REJECTED = "EmcoRequestRejected"
    UNAVAILABLE = "EmcoUnavailable"
    BAD_RESPONSE = "EmcoBadResponse"
    URL_NOT_ALLOWED = "EmcoUrlNotAllowed"
    CHANGED_BY_OTHERS = "EmcoChangedByOthers"
    # Activities
    INVALID_INPUT = "InvalidActivityInput"
    REFUSED = "MigrationRefused"
    VERIFICATION_TIMEOUT = "VerificationTimeout"
    DEPLOYMENT_FAILED = "DeploymentFailed"
    # The workflow's outcome
    INVALID_PARAMS = "InvalidWorkflowParams"
    STEP_FAILED = "MigrationStepFailed"
    ROLLED_BACK = "MigrationRolledBack"
    ROLLBACK_FAILED = "MigrationRollbackFailed"
    ROLLBACK_STOPPED = "MigrationRollbackStopped"
    DIG_LOCKED = "DigBeingMigrated"
    INTERNAL = "MigrationInternalError"
