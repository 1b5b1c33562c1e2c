"""A local emulator of the EMCO REST API (orchestrator, clm, dcm, workflowmgr) backed by SQLite."""
