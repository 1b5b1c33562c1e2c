"""The common HTTP server that EMCO's workflowmgr calls to start workflows."""
