"""The migrate workflow, its activities and the EMCO orchestrator client."""
