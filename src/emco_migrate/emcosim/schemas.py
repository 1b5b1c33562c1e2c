"""The JSON schemas EMCO validates re-marshalled request structs against (contract section 9).

They are written out here from the rules the contract states; quirks are kept on purpose
(the composite-app version is not checked, GPI `spec` is not part of the struct, ...).
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

NAME_PATTERN = "^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"


def _name(max_length: int = 128) -> Schema:
    return {"type": "string", "maxLength": max_length, "pattern": NAME_PATTERN}


METADATA: Schema = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": _name(),
        "description": {"type": "string", "maxLength": 1024},
        "userData1": {"type": "string", "maxLength": 512},
        "userData2": {"type": "string", "maxLength": 512},
    },
}


def with_metadata(**properties: Schema) -> Schema:
    """An object schema with EMCO's metadata rules and the given other properties."""
    return {"type": "object", "properties": {"metadata": METADATA, **properties}}


# metadata.json: project, app, composite profile, app profile, GPI, CLM and DCM objects
METADATA_ONLY: Schema = with_metadata()

# composite-app.json: the version keyword sits where gojsonschema ignores it
COMPOSITE_APP: Schema = with_metadata(spec={"type": "object"})

DEPLOYMENT_INTENT_GROUP: Schema = with_metadata(
    spec={
        "type": "object",
        "required": ["compositeProfile", "version", "logicalCloud"],
        "properties": {
            "compositeProfile": _name(),
            "version": _name(),
            "logicalCloud": _name(),
            "overrideValues": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["app", "values"],
                    "properties": {
                        "app": {"type": "string"},
                        "values": {
                            "type": "object",
                            "additionalProperties": {"type": "string", "maxLength": 128},
                        },
                    },
                },
            },
        },
    }
)

# deployment-intent.json (`/intents`)
GROUP_INTENT: Schema = with_metadata(
    spec={
        "type": "object",
        "required": ["intent"],
        "properties": {
            "intent": {
                "type": "object",
                "additionalProperties": {"type": "string", "maxLength": 128},
            }
        },
    }
)

_CLUSTER_PROPS: Schema = {
    "clusterProvider": {"type": "string", "maxLength": 128},
    "clusterLabel": {"type": "string", "maxLength": 128},
    "cluster": {"type": "string", "maxLength": 128},
}
_BY_NAME: Schema = {
    "required": ["clusterProvider", "cluster"],
    "not": {"required": ["clusterLabel"]},
}
_BY_LABEL: Schema = {
    "required": ["clusterProvider", "clusterLabel"],
    "not": {"required": ["cluster"]},
}
_ANY_OF_ITEM: Schema = {
    "type": "object",
    "properties": _CLUSTER_PROPS,
    "oneOf": [_BY_NAME, _BY_LABEL],
}
_ALL_OF_ITEM: Schema = {
    "type": "object",
    "properties": {**_CLUSTER_PROPS, "anyOf": {"type": "array", "items": _ANY_OF_ITEM}},
    "oneOf": [_BY_NAME, {"required": ["anyOf"]}, _BY_LABEL],
}

# generic-placement-intent-app.json
APP_INTENT: Schema = {
    "type": "object",
    "properties": {
        "metadata": METADATA,
        "spec": {
            "required": ["app", "intent"],
            "properties": {
                "app": {"type": "string", "maxLength": 128},
                "intent": {
                    "properties": {
                        "anyOf": {"type": "array", "items": _ANY_OF_ITEM},
                        "allOf": {"type": "array", "items": _ALL_OF_ITEM},
                    }
                },
            },
        },
    },
}

ROLLBACK: Schema = {
    "type": "object",
    "properties": {
        "metadata": {"properties": {"description": {"type": "string", "maxLength": 1024}}},
        "spec": {"required": ["revision"], "properties": {"revision": _name()}},
    },
}

MIGRATE: Schema = {
    "type": "object",
    "properties": {
        "spec": {
            "required": ["targetCompositeAppVersion", "targetDeploymentIntentGroup"],
            "properties": {
                "targetCompositeAppVersion": _name(),
                "targetDeploymentIntentGroup": _name(),
            },
        }
    },
}

CLUSTER_LABEL: Schema = {
    "type": "object",
    "properties": {"clusterLabel": _name()},
}

_RETRY_POLICY: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "InitialInterval",
        "BackoffCoefficient",
        "MaximumInterval",
        "MaximumAttempts",
        "NonRetryableErrorTypes",
    ],
    "properties": {
        "InitialInterval": {"type": "integer"},
        "BackoffCoefficient": {"type": "number"},
        "MaximumInterval": {"type": "integer"},
        "MaximumAttempts": {"type": "integer"},
        "NonRetryableErrorTypes": {"type": ["array", "null"], "items": {"type": "string"}},
    },
}
_ACTIVITY_OPTIONS: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "TaskQueue",
        "ScheduleToCloseTimeout",
        "ScheduleToStartTimeout",
        "StartToCloseTimeout",
        "HeartbeatTimeout",
        "WaitForCancellation",
        "ActivityID",
        "RetryPolicy",
    ],
    "properties": {
        "TaskQueue": {"type": "string"},
        "ScheduleToCloseTimeout": {"type": "integer"},
        "ScheduleToStartTimeout": {"type": "integer"},
        "StartToCloseTimeout": {"type": "integer"},
        "HeartbeatTimeout": {"type": "integer"},
        "WaitForCancellation": {"type": "boolean"},
        "ActivityID": {"type": "string"},
        "RetryPolicy": _RETRY_POLICY,
    },
}

# workflowmgr workflow_intent.json
WORKFLOW_INTENT: Schema = {
    "type": "object",
    "properties": {
        "metadata": {"type": "object", "required": ["name"], "properties": {"name": _name()}},
        "spec": {
            "type": "object",
            "required": ["workflowClient", "temporal"],
            "properties": {
                "workflowClient": {
                    "type": "object",
                    "properties": {
                        "clientEndpointName": {"type": "string"},
                        "clientEndpointPort": {"type": "integer"},
                    },
                },
                "temporal": {
                    "type": "object",
                    "properties": {
                        "workflowClientName": {"type": "string"},
                        "workflowStartOptions": {"type": "object", "required": ["TaskQueue"]},
                        "workflowParams": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "activityOptions": {
                                    "type": "object",
                                    "additionalProperties": _ACTIVITY_OPTIONS,
                                },
                                "activityParams": {
                                    "type": "object",
                                    "additionalProperties": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}
