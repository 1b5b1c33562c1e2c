"""Command-line options shared by the workflow-client commands."""

from __future__ import annotations

import argparse

from emco_migrate.temporal_connection import TemporalSettings


def add_temporal_arguments(parser: argparse.ArgumentParser) -> None:
    """``--address`` and ``--namespace``; both default to Temporal's environment settings."""
    group = parser.add_argument_group("Temporal connection")
    group.add_argument(
        "--address",
        metavar="HOST:PORT",
        help="Temporal frontend (default: TEMPORAL_ADDRESS, TEMPORAL_SERVER, localhost:7233)",
    )
    group.add_argument(
        "--namespace",
        help="Temporal namespace (default: TEMPORAL_NAMESPACE or 'default')",
    )


def temporal_settings(args: argparse.Namespace) -> TemporalSettings:
    """Connection settings from the parsed flags and the environment."""
    return TemporalSettings.load(address=args.address, namespace=args.namespace)
