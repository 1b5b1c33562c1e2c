"""Names fixed by the wire contract with EMCO and the Go reference (declared once)."""

WORKFLOW_NAME = "EmcoMigrateWorkflow"
# The contract's task queue and the default; a deployment may configure its own
# (`emco_migrate.task_queue`), and in activity options this name means the run's own queue.
TASK_QUEUE = "MIGRATION_TASK_Q"

ACTIVITY_GET_DIG_APP_INTENTS = "GetDigAppIntents"
ACTIVITY_UPDATE_APP_INTENTS = "UpdateAppIntents"
ACTIVITY_DO_DIG_UPDATE = "DoDigUpdate"

# Activities only this implementation has (verified, reversible migration).
ACTIVITY_SNAPSHOT = "SnapshotMigration"
ACTIVITY_APPLY_APP_INTENTS = "ApplyAppIntents"
ACTIVITY_VERIFY = "VerifyMigration"
ACTIVITY_ROLLBACK = "RollbackDig"
ACTIVITY_CONFIRM_RESTORED = "ConfirmRestored"
ACTIVITY_DESCRIBE_DIG_LOCK = "DescribeDigLock"

# The activities whose options activityOptions may set, in the order the workflow runs them.
ALL_ACTIVITY_NAMES = (
    ACTIVITY_GET_DIG_APP_INTENTS,
    ACTIVITY_UPDATE_APP_INTENTS,
    ACTIVITY_DO_DIG_UPDATE,
    ACTIVITY_SNAPSHOT,
    ACTIVITY_APPLY_APP_INTENTS,
    ACTIVITY_VERIFY,
    ACTIVITY_ROLLBACK,
)

# The per-DIG lock: a child workflow whose ID is derived from the DIG (one run at a time).
WORKFLOW_DIG_LOCK = "EmcoMigrateDigLock"
SIGNAL_RELEASE = "release"

# Key of activityOptions / activityParams that applies to every activity.
ALL_ACTIVITIES = "all-activities"

QUERY_CURRENT_STATE = "current-state"
QUERY_PROGRESS = "progress"
STATE_STARTED = "started"
STATE_COMPLETED = "completed"

# The workflow client name the HTTP server serves built in.
MIGRATE_WORKFLOW_CLIENT = "migrate_workflowclient"

# Evacuation of a cluster: a workflow of its own on the same queue, with one migration child
# per DIG; its controls (signals, update) and its discovery activity.
WORKFLOW_EVACUATE = "EmcoEvacuateWorkflow"
ACTIVITY_DISCOVER_FLEET = "DiscoverFleet"
ACTIVITY_CHECK_FAILBACK = "CheckFailback"
SIGNAL_PAUSE = "pause"
SIGNAL_RESUME = "resume"
SIGNAL_ABORT = "abort"
UPDATE_MAX_IN_FLIGHT = "set-max-in-flight"
SIGNAL_FAILBACK_NOW = "failback-now"
SIGNAL_CANCEL_FAILBACK = "cancel-failback"
EVACUATE_WORKFLOW_CLIENT = "evacuate_workflowclient"
