"""Helpers for end-to-end tests: reading EMCO state back and watching workflows."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import Mapping
from typing import Any

import httpx
from temporalio.client import WorkflowHandle

from emco_migrate import cli
from emco_migrate.emcomigrate.names import QUERY_CURRENT_STATE, QUERY_PROGRESS
from emco_migrate.emcosim.fixtures import multipart, sample_chart, sample_profile
from support.emulator import Emulator, SampleSetup
from support.stack import Starter, vector_input
from support.waiting import wait_for

Handle = WorkflowHandle[Any, Any]


async def start_migration(
    starter: Starter,
    setup: SampleSetup,
    *,
    options: Mapping[str, object] | None = None,
    **params: str,
) -> Handle:
    """Start EmcoMigrateWorkflow for ``setup`` with the Go sample's options (or ``options``)."""
    return await starter.start(
        vector_input(options=options, **{**setup.activity_params(), **params})
    )


def emco_get(setup: SampleSetup, path: str, **params: Any) -> Any:
    """GET a path under the setup's emulator; the JSON answer."""
    response = httpx.get(f"{setup.url}{path}", params=params, timeout=10.0)
    response.raise_for_status()
    return response.json()


def actions(setup: SampleSetup) -> list[dict[str, Any]]:
    """The DIG's action log."""
    return list(emco_get(setup, f"{setup.dig_path}/status")["states"]["actions"])


def instantiated_revisions(setup: SampleSetup) -> list[int]:
    """Revisions of the ``Instantiated`` entries, in log order."""
    return [a["revision"] for a in actions(setup) if a["state"] == "Instantiated"]


def app_intent(setup: SampleSetup, name: str | None = None) -> dict[str, Any]:
    """An app intent's body as EMCO stores it."""
    gpis = f"{setup.dig_path}/generic-placement-intents/{setup.gpi}"
    body: dict[str, Any] = emco_get(setup, f"{gpis}/app-intents/{name or setup.app_intent}")
    return body


def placement(
    emulator: Emulator, setup: SampleSetup, app: str | None = None
) -> dict[str, list[str]]:
    """``provider+cluster`` -> resource states of the app on the simulated clusters."""
    where: dict[str, list[str]] = {}
    for provider, cluster, resource in emulator.resources(project=setup.project):
        if resource.app == (app or setup.app):
            where.setdefault(f"{provider}+{cluster}", []).append(resource.state)
    return where


async def wait_for_state(handle: Handle, state: str, within: float = 30.0) -> None:
    """Poll current-state until it is ``state``."""

    async def reached() -> bool:
        return bool(await handle.query(QUERY_CURRENT_STATE) == state)

    await wait_for(reached, within=within, what=f"current-state {state!r}")


async def progress(handle: Handle) -> dict[str, Any]:
    """The workflow's `progress` query answer."""
    answer: dict[str, Any] = await handle.query(QUERY_PROGRESS)
    return answer


def add_app(setup: SampleSetup, app: str, provider: str, cluster: str) -> None:
    """Add a second app (chart, profile, app intent) to the DIG and /update so it deploys."""
    base = setup.composite_app_path
    with httpx.Client(base_url=setup.url, timeout=10.0) as c:
        chart = sample_chart(app, service=False)
        c.post(
            f"{base}/apps", files=multipart({"metadata": {"name": app}}, chart)
        ).raise_for_status()
        profile = {"metadata": {"name": f"{app}-profile"}, "spec": {"app": app}}
        c.post(
            f"{base}/composite-profiles/{setup.composite_profile}/profiles",
            files=multipart(profile, sample_profile()),
        ).raise_for_status()
        placement = {"allOf": [{"clusterProvider": provider, "cluster": cluster}]}
        intent = {"metadata": {"name": f"{app}-placement-intent"},
                  "spec": {"app": app, "intent": placement}}  # fmt: skip
        c.post(
            f"{setup.dig_path}/generic-placement-intents/{setup.gpi}/app-intents", json=intent
        ).raise_for_status()
        c.post(f"{setup.dig_path}/update").raise_for_status()


def emco_post(setup: SampleSetup, path: str, **kwargs: Any) -> httpx.Response:
    """POST to a path under the setup's emulator; fails on an error status."""
    response = httpx.post(f"{setup.url}{path}", timeout=10.0, **kwargs)
    response.raise_for_status()
    return response


def add_cluster(setup: SampleSetup, provider: str, cluster: str) -> None:
    """Register a cluster in CLM only (not in the DIG's logical cloud)."""
    emco_post(setup, "/v2/cluster-providers", json={"metadata": {"name": provider}})
    files = {
        "metadata": (None, json.dumps({"metadata": {"name": cluster}})),
        "file": ("file", b"apiVersion: v1\n"),
    }
    emco_post(setup, f"/v2/cluster-providers/{provider}/clusters", files=files)


def emco_migrate_list(address: str, *args: str) -> tuple[int, str, str]:
    """``emco-migrate list ARGS``: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["list", *args, "--address", address])
    return code, out.getvalue(), err.getvalue()


async def listed(address: str, *args: str) -> list[dict[str, Any]]:
    code, out, err = await asyncio.to_thread(emco_migrate_list, address, *args, "-o", "json")
    assert code == 0, err
    runs: list[dict[str, Any]] = json.loads(out)
    return runs
