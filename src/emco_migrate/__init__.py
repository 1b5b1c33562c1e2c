"""emco-migrate: migrate EMCO-deployed apps between clusters with a durable Temporal workflow."""

__version__ = "0.1.0"
