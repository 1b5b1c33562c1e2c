"""An emcoctl-compatible applier for EMCO resource YAML files."""
