"""The migrate workflow client: starts EmcoMigrateWorkflow from a WfTemporalSpec."""
