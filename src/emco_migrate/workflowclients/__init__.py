"""Workflow clients: the common HTTP server EMCO calls, and the clients it can run."""
