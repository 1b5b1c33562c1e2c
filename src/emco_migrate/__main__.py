"""Allow ``python -m emco_migrate``."""

from emco_migrate.cli import entry

entry()
