"""`emco-migrate worker`: runs EmcoMigrateWorkflow and its activities on MIGRATION_TASK_Q
(or the queue ``--task-queue`` / ``EMCO_MIGRATE_TASK_QUEUE`` names)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import ipaddress
import logging
import os
import signal
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from emco_migrate import cli_help, logs
from emco_migrate.cli_help import HelpSections, Variable
from emco_migrate.emcomigrate import metrics, search_attributes
from emco_migrate.emcomigrate.activities import MigrationActivities
from emco_migrate.emcomigrate.dig_lock import DigLockWorkflow
from emco_migrate.emcomigrate.emco_client import MAX_CONNECTIONS, new_http_client
from emco_migrate.emcomigrate.endpoints import (
    ALLOW_ENV,
    ALLOW_ENVIRONMENT,
    EmcoUrlPolicy,
    UrlRefused,
)
from emco_migrate.emcomigrate.evacuation import EmcoEvacuateWorkflow
from emco_migrate.emcomigrate.fleet_activities import FleetActivities
from emco_migrate.emcomigrate.names import TASK_QUEUE
from emco_migrate.emcomigrate.read_cache import RunReads, TargetChecks
from emco_migrate.emcomigrate.reversible import ReversibleMigrationActivities
from emco_migrate.emcomigrate.workflows import EmcoMigrateWorkflow
from emco_migrate.errors import AddressInUse, UserError
from emco_migrate.task_queue import (
    TASK_QUEUE_ENVIRONMENT,
    add_task_queue_argument,
    task_queue_from,
)
from emco_migrate.temporal_connection import ENVIRONMENT as TEMPORAL_ENVIRONMENT
from emco_migrate.temporal_connection import TemporalSettings, connect
from emco_migrate.workflowclients.start_options import registered_search_attributes

HELP = "run the worker that executes EmcoMigrateWorkflow"
DEFAULT_DRAIN_SECONDS = 30.0
# VerifyMigration holds its slot for the whole rollout while it mostly sleeps between polls,
# so slots must outnumber the migrations in flight: with 100, a burst of 500 stalled once
# 100 were verifying, every other migration's first activity waiting for a free slot.
# EMCO sees at most the HTTP client's connection limit of requests at once.
DEFAULT_MAX_CONCURRENT_ACTIVITIES = 1000
# A workflow kept in the worker's cache costs about 120 KiB; one evicted costs a replay of its
# short history when its next task arrives. Migrations parked for minutes in verification are
# the least recently used, so they are the ones evicted beyond this many.
DEFAULT_MAX_CACHED_WORKFLOWS = 250
# Metrics stay on this host unless asked: the Helm chart passes 0.0.0.0 so Prometheus can
# scrape the pod.
DEFAULT_METRICS_HOST = "127.0.0.1"

log = logging.getLogger(__name__)

# The sandbox re-imports a workflow's module for every workflow run it starts (about 70 KiB
# per migration kept in memory, and its CPU). Our modules are passed through instead: the
# worker process imports them once. The sandbox's runtime restrictions (no wall clock, no
# I/O...) still apply to the workflow code; the test suite also runs the workflow in the
# default sandbox (tests/support/stack.py), which re-imports it per run.
PASSTHROUGH_MODULES = ("emco_migrate",)


@dataclass(frozen=True)
class WorkerSettings:
    """Everything the worker process needs, built once in `run`."""

    temporal: TemporalSettings
    task_queue: str = TASK_QUEUE
    drain_timeout: float = DEFAULT_DRAIN_SECONDS
    metrics_port: int = 0
    metrics_host: str = DEFAULT_METRICS_HOST
    max_concurrent_activities: int = DEFAULT_MAX_CONCURRENT_ACTIVITIES
    max_cached_workflows: int = DEFAULT_MAX_CACHED_WORKFLOWS
    emco_urls: EmcoUrlPolicy = field(default_factory=EmcoUrlPolicy)
    emco_max_in_flight: int = MAX_CONNECTIONS
    emco_requests_per_second: float = 0.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Worker flags; Temporal connection settings also come from TEMPORAL_* variables."""
    parser.add_argument(
        "--address",
        help="Temporal host:port (default: TEMPORAL_ADDRESS, "
        "else TEMPORAL_SERVER, else localhost:7233)",
    )
    parser.add_argument(
        "--namespace", help="Temporal namespace (default: TEMPORAL_NAMESPACE or 'default')"
    )
    add_task_queue_argument(parser)
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=os.environ.get("EMCO_MIGRATE_DRAIN_TIMEOUT", str(DEFAULT_DRAIN_SECONDS)),
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, how long in-flight activities may finish "
        "(default: EMCO_MIGRATE_DRAIN_TIMEOUT or 30)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=os.environ.get("EMCO_MIGRATE_METRICS_PORT", "0"),
        metavar="PORT",
        help="serve Prometheus metrics on this port "
        "(default: EMCO_MIGRATE_METRICS_PORT or 0 = off)",
    )
    parser.add_argument(
        "--metrics-host",
        default=os.environ.get("EMCO_MIGRATE_METRICS_HOST", DEFAULT_METRICS_HOST),
        metavar="HOST",
        help="IP address the metrics endpoint listens on; 0.0.0.0 or :: for every interface "
        f"(default: EMCO_MIGRATE_METRICS_HOST or {DEFAULT_METRICS_HOST})",
    )
    parser.add_argument(
        "--max-concurrent-activities",
        type=int,
        default=DEFAULT_MAX_CONCURRENT_ACTIVITIES,
        metavar="N",
        help="activities run at once by this worker, a verification's included "
        f"(default: {DEFAULT_MAX_CONCURRENT_ACTIVITIES})",
    )
    parser.add_argument(
        "--max-cached-workflows",
        type=int,
        default=os.environ.get(
            "EMCO_MIGRATE_MAX_CACHED_WORKFLOWS", str(DEFAULT_MAX_CACHED_WORKFLOWS)
        ),
        metavar="N",
        help="workflows kept in memory between their tasks; the least recently used beyond "
        "this are evicted and replayed when needed "
        f"(default: EMCO_MIGRATE_MAX_CACHED_WORKFLOWS or {DEFAULT_MAX_CACHED_WORKFLOWS})",
    )
    parser.add_argument(
        "--emco-max-in-flight",
        type=int,
        default=os.environ.get("EMCO_MIGRATE_EMCO_MAX_IN_FLIGHT", str(MAX_CONNECTIONS)),
        metavar="N",
        help="EMCO requests this worker has in flight at once, each on a kept-alive "
        "connection; the others wait for a free one "
        f"(default: EMCO_MIGRATE_EMCO_MAX_IN_FLIGHT or {MAX_CONNECTIONS})",
    )
    parser.add_argument(
        "--emco-requests-per-second",
        type=float,
        default=os.environ.get("EMCO_MIGRATE_EMCO_REQUESTS_PER_SECOND", "0"),
        metavar="RATE",
        help="EMCO requests this worker starts per second at most, e.g. to keep hundreds of "
        "verifications from loading EMCO (default: EMCO_MIGRATE_EMCO_REQUESTS_PER_SECOND "
        "or 0 = no limit)",
    )
    parser.add_argument(
        "--allow-emco-url",
        action="append",
        metavar="PATTERN",
        help="an EMCO base URL pattern activities may call, e.g. 'http://10.0.0.*:30415' "
        f"(repeatable; default: {ALLOW_ENV}, comma-separated; none: any emcoURL)",
    )


def help_sections(command: str) -> HelpSections:
    """What ``worker --help`` ends with."""
    return HelpSections(
        environment=(
            *TEMPORAL_ENVIRONMENT,
            TASK_QUEUE_ENVIRONMENT,
            Variable.one("EMCO_MIGRATE_DRAIN_TIMEOUT", "default of --drain-timeout"),
            Variable.one("EMCO_MIGRATE_METRICS_PORT", "default of --metrics-port"),
            Variable.one("EMCO_MIGRATE_METRICS_HOST", "default of --metrics-host"),
            Variable.one("EMCO_MIGRATE_MAX_CACHED_WORKFLOWS", "default of --max-cached-workflows"),
            Variable.one("EMCO_MIGRATE_EMCO_MAX_IN_FLIGHT", "default of --emco-max-in-flight"),
            Variable.one(
                "EMCO_MIGRATE_EMCO_REQUESTS_PER_SECOND", "default of --emco-requests-per-second"
            ),
            ALLOW_ENVIRONMENT,
            Variable(("SSL_CERT_FILE", "SSL_CERT_DIR"), "CAs for HTTPS calls to EMCO (certifi's)"),
        ),
        exit_codes={
            cli_help.OK: "stopped by SIGTERM or Ctrl-C, after draining in-flight activities",
            cli_help.FAILED: "a setting it cannot use, the namespace lacks the search "
            "attributes the workflows set (the commands to add them are named), or the worker "
            "failed (one line)",
            cli_help.UNREACHABLE: "Temporal did not answer at start",
            cli_help.ADDRESS_IN_USE: "--metrics-port is in use",
        },
        examples=(
            "emco-migrate worker --address temporal.example:7233 --namespace default",
            "emco-migrate --log-format json worker --metrics-port 9464 --metrics-host 0.0.0.0",
        ),
    )


def run(args: argparse.Namespace) -> int:
    """Parse settings, run the worker until a stop signal, exit 0 after draining."""
    task_queue = task_queue_from(args.task_queue)
    if args.drain_timeout < 0:
        raise UserError("--drain-timeout must not be negative")
    if not 0 <= args.metrics_port <= 65535:
        raise UserError("--metrics-port must be between 0 and 65535")
    try:
        ipaddress.ip_address(args.metrics_host)
    except ValueError:
        raise UserError(
            f"--metrics-host {args.metrics_host!r} is not an IP address (e.g. 127.0.0.1, 0.0.0.0)"
        ) from None
    if args.max_concurrent_activities < 1:
        raise UserError("--max-concurrent-activities must be at least 1")
    if args.max_cached_workflows < 0:
        raise UserError("--max-cached-workflows must not be negative")
    if args.emco_max_in_flight < 1:
        raise UserError("--emco-max-in-flight must be at least 1")
    if not 0 <= args.emco_requests_per_second <= 1_000_000:
        raise UserError("--emco-requests-per-second must be between 0 (no limit) and 1000000")
    try:
        emco_urls = EmcoUrlPolicy.from_sources(args.allow_emco_url)
    except UrlRefused as err:
        raise UserError(str(err)) from None
    settings = WorkerSettings(
        emco_urls=emco_urls,
        temporal=TemporalSettings.load(address=args.address, namespace=args.namespace),
        task_queue=task_queue,
        drain_timeout=args.drain_timeout,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
        max_concurrent_activities=args.max_concurrent_activities,
        max_cached_workflows=args.max_cached_workflows,
        emco_max_in_flight=args.emco_max_in_flight,
        emco_requests_per_second=args.emco_requests_per_second,
    )
    asyncio.run(serve(settings))
    return 0


async def serve(
    settings: WorkerSettings,
    *,
    extra_workflows: Sequence[type] = (),
    extra_activities: Callable[[httpx.AsyncClient], list[Callable[..., Any]]] | None = None,
    extra_passthrough: Sequence[str] = (),
) -> None:
    """Connect, poll the task queue until SIGTERM/SIGINT, then drain and return.

    ``extra_workflows`` / ``extra_activities`` (given the shared HTTP client) run on the same
    worker, e.g. the benchmark's floor workflow, whose modules ``extra_passthrough`` lists.
    """
    runtime = None
    if settings.metrics_port:
        runtime = metrics_runtime(settings.metrics_host, settings.metrics_port)
    client = await connect(settings.temporal, runtime=runtime)
    await check_search_attributes(client)
    if runtime is not None:
        metrics.announce(runtime.metric_meter, client.namespace, settings.task_queue)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    http_client = new_http_client(
        max_connections=settings.emco_max_in_flight,
        requests_per_second=settings.emco_requests_per_second,
    )
    async with http_client as http:
        worker = Worker(
            client,
            task_queue=settings.task_queue,
            workflows=[*workflow_classes(), *extra_workflows],
            activities=[
                *activity_methods(http, settings.emco_urls),
                *(extra_activities(http) if extra_activities else ()),
            ],
            max_concurrent_activities=settings.max_concurrent_activities,
            max_cached_workflows=settings.max_cached_workflows,
            graceful_shutdown_timeout=timedelta(seconds=settings.drain_timeout),
            workflow_runner=SandboxedWorkflowRunner(
                restrictions=SandboxRestrictions.default.with_passthrough_modules(
                    *PASSTHROUGH_MODULES, *extra_passthrough
                )
            ),
        )
        log.info(
            "worker polling task queue %s on %s", settings.task_queue, settings.temporal.describe()
        )
        if settings.emco_urls.allows_all:
            log.warning("no --allow-emco-url given: workflows may call any emcoURL")
        else:
            log.info("EMCO URLs allowed: %s", ", ".join(settings.emco_urls.patterns))
        async with worker:
            logs.announce(
                log,
                f"emco-migrate worker: polling {settings.task_queue} on "
                f"{settings.temporal.describe()}",
            )
            await stop.wait()
            log.info("stop signal received; draining for up to %.0fs", settings.drain_timeout)
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError):
            loop.remove_signal_handler(sig)
    log.info("worker stopped")


async def check_search_attributes(client: Client) -> None:
    """Refuse to start, in one line saying how to fix it, when the namespace lacks the
    search attributes the workflows set (a run would fail its first upsert forever)."""
    missing = search_attributes.missing(await registered_search_attributes(client))
    if missing:
        commands = search_attributes.create_commands(client.namespace, missing)
        raise UserError(
            f"namespace {client.namespace} lacks the search attributes the workflows set "
            f"({', '.join(missing)}); register them once with: {' && '.join(commands)}"
        )


def metrics_runtime(host: str, port: int) -> Runtime:
    """A Temporal runtime serving Prometheus metrics on ``host:port``, or a one-line error.

    The port is bound (and released) first, as the runtime reports a failed bind only as
    text while an `OSError` has its errno; nothing connected to the probe, so the port is free
    again at once.
    """
    ipv6 = ipaddress.ip_address(host).version == 6
    shown = f"[{host}]" if ipv6 else host
    address = f"{shown}:{port}"
    family = socket.AF_INET6 if ipv6 else socket.AF_INET
    try:
        with socket.create_server((host, port), family=family):
            pass
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise AddressInUse(shown, port, "--metrics-port") from err
        reason = os.strerror(err.errno) if err.errno else str(err)  # strerror names the address
        raise UserError(f"cannot serve metrics on {address}: {reason}") from err
    try:
        return Runtime(telemetry=logs.telemetry(prometheus_config(address)))
    except ValueError as err:  # e.g. another process took the port since
        if "Address already in use" in str(err):
            raise AddressInUse(shown, port, "--metrics-port") from err
        raise UserError(f"cannot serve metrics on {address}: {' '.join(str(err).split())}") from err


def prometheus_config(address: str) -> PrometheusConfig:
    """The SDK's Prometheus endpoint: its durations and ours in seconds, our histograms
    with buckets fit for rollouts (`metrics.BUCKETS`)."""
    return PrometheusConfig(
        bind_address=address,
        durations_as_seconds=True,
        histogram_bucket_overrides=metrics.BUCKETS,
    )


def workflow_classes() -> list[type]:
    """The workflow classes the worker registers (and the replay tests replay)."""
    return [EmcoMigrateWorkflow, DigLockWorkflow, EmcoEvacuateWorkflow]


def activity_methods(
    http: httpx.AsyncClient, emco_urls: EmcoUrlPolicy | None = None
) -> list[Callable[..., Any]]:
    """The activity callables the worker registers, sharing one HTTP client; they call
    only EMCO URLs ``emco_urls`` allows (default: any)."""
    reads = RunReads()  # shared: a run's next step reuses what its previous one read
    go = MigrationActivities(http, emco_urls, reads)
    reversible = ReversibleMigrationActivities(http, emco_urls, reads, TargetChecks())
    fleet = FleetActivities(http, emco_urls)
    return [
        go.get_dig_app_intents,
        go.update_app_intents,
        go.do_dig_update,
        reversible.snapshot,
        reversible.apply_app_intents,
        reversible.verify,
        reversible.rollback,
        reversible.confirm_restored,
        reversible.describe_dig_lock,
        fleet.discover,
        fleet.check_failback,
    ]
