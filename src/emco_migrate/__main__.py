"""Allow ``python -m emco_migrate``."""

from emco_migrate.cli import main

raise SystemExit(main())
