"""EMCO's REST vocabulary shared by the worker and the emulator: the states a DIG's action
log records and the deployment status of its app context (``GET .../status``)."""

from __future__ import annotations

from enum import StrEnum


class DigState(StrEnum):
    """A DIG's (or logical cloud's) state: the last action of its log."""

    CREATED = "Created"
    APPROVED = "Approved"
    APPLIED = "Applied"
    INSTANTIATED = "Instantiated"
    TERMINATED = "Terminated"
    INSTANTIATE_STOPPED = "InstantiateStopped"
    TERMINATE_STOPPED = "TerminateStopped"
    UPDATED = "Updated"
    UNDEFINED = "Undefined"


class DeployedStatus(StrEnum):
    """The deployment status of a DIG's app context (``deployedStatus``)."""

    INSTANTIATING = "Instantiating"
    INSTANTIATED = "Instantiated"
    TERMINATING = "Terminating"
    TERMINATED = "Terminated"
    UPDATING = "Updating"
    UPDATED = "Updated"
