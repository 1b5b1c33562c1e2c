"""`wire.emco`: one set of EMCO bodies for the worker (keeps what EMCO sent) and the emulator
(drops unknown keys, as EMCO's Go handlers do)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from emco_migrate.emcomigrate.emco_client import EmcoClient
from emco_migrate.emcomigrate.error_types import ErrorType
from emco_migrate.emcomigrate.guards import placement_text, same_placement
from emco_migrate.emcomigrate.plan import interim_intent
from emco_migrate.emcomigrate.types import AppIntent, ClusterRef, DigRef, single_cluster_intent
from emco_migrate.emcosim import schemas
from emco_migrate.emcosim.bodies import decode_bytes
from emco_migrate.wire import emco
from emco_migrate.wire.structs import decode, encode, from_json, to_json
from support.emulator import Emulator, build_sample_setup

DIG = DigRef("http://emco:9015", "proj", "capp", "v1", "dig")
GPI_PATH = "/v2/projects/proj/composite-apps/capp/v1/deployment-intent-groups/dig"
GPI_PATH += "/generic-placement-intents"

# An app intent as a newer EMCO might send it: a key this code does not know in the
# metadata, the spec, the placement, an allOf entry and the intent itself.
NEWER: dict[str, Any] = {
    "metadata": {"name": "ai", "description": "d", "owner": {"team": "x", "n": 3}},
    "spec": {
        "app": "collectd",
        "intent": {
            "allOf": [{"clusterProvider": "p1", "cluster": "c1", "weight": 2}],
            "anyOf": [{"clusterProvider": "p1", "clusterLabel": "edge"}],
            "spread": True,
        },
        "priority": 1.5,
    },
    "status": "ok",
}
KNOWN: dict[str, Any] = {
    "metadata": {"name": "ai", "description": "d"},
    "spec": {
        "app": "collectd",
        "intent": {
            "allOf": [{"clusterProvider": "p1", "cluster": "c1"}],
            "anyOf": [{"clusterProvider": "p1", "clusterLabel": "edge"}],
        },
    },
}


def emco_answering(handler: Any) -> EmcoClient:
    return EmcoClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), DIG.emco_url)


def test_decoding_keeps_unknown_keys_and_encoding_re_emits_them() -> None:
    body = json.dumps(NEWER, separators=(",", ":")).encode()
    intent = from_json(emco.AppIntent, body)
    assert intent.metadata.extensions == {"owner": {"team": "x", "n": 3}}
    assert intent.spec.extensions == {"priority": 1.5}
    assert intent.spec.intent.extensions == {"spread": True}
    assert (intent.spec.intent.all_of or [])[0].extensions == {"weight": 2}
    assert intent.extensions == {"status": "ok"}
    # every object's own fields first, then what this code does not know: here, EMCO's order
    assert to_json(intent) == body


def test_keep_unknown_false_drops_them_as_go_does() -> None:
    intent = decode(emco.AppIntent, NEWER, keep_unknown=False)
    assert encode(intent) == KNOWN
    assert intent.metadata.extensions == intent.spec.intent.extensions == {}


def test_the_emulators_request_decoding_drops_unknown_keys() -> None:
    body = json.dumps(NEWER).encode()
    intent = decode_bytes(body, emco.AppIntent, schemas.APP_INTENT)
    assert to_json(intent) == to_json(decode(emco.AppIntent, KNOWN))


def test_every_placement_entry_is_the_one_cluster_reference() -> None:
    placement = decode(
        emco.PlacementIntent,
        {
            "allOf": [
                {"clusterProvider": "p1", "cluster": "c1"},
                {"anyOf": [{"clusterProvider": "p2", "clusterLabel": "edge"}]},
            ],
            "anyOf": [{"clusterProvider": "p3", "cluster": "c3"}],
        },
    )
    all_of, any_of = placement.all_of or [], placement.any_of or []
    nested = all_of[1].any_of or []
    for entry in (*all_of, *any_of, *nested):
        assert isinstance(entry, emco.ClusterSelector)
    assert (all_of[0].provider, all_of[0].cluster) == ("p1", "c1")
    assert (nested[0].provider, nested[0].label) == ("p2", "edge")
    assert (any_of[0].provider, any_of[0].cluster) == ("p3", "c3")
    assert placement_text(placement) == "allOf p1+c1; anyOf p3+c3"


def test_typed_and_recorded_placements_compare_alike() -> None:
    target = ClusterRef("p2", "c2")
    typed = single_cluster_intent(target)
    assert typed.encode() == {"allOf": [{"clusterProvider": "p2", "cluster": "c2"}]}
    assert same_placement(typed, typed.encode())
    assert same_placement(
        typed, {"allOf": [{"clusterProvider": "p2", "cluster": "c2"}], "anyOf": []}
    )
    interim = interim_intent(from_json(emco.AppIntent, json.dumps(NEWER)).spec.intent, target)
    assert interim.extensions == {"spread": True}
    assert not same_placement(interim, typed)


async def test_the_worker_puts_back_everything_emco_sent() -> None:
    puts: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            puts.append(json.loads(request.content))
            return httpx.Response(200, json={})
        return httpx.Response(200, content=json.dumps([NEWER]).encode() + b"\n")

    client = emco_answering(handler)
    (intent,) = await client.app_intents(DIG, "gpi")
    assert (intent.placement_intent, intent.name, intent.app) == ("gpi", "ai", "collectd")
    await client.put_app_intent(DIG, intent)
    # a restore goes through the recorded JSON object (a payload) and back
    recorded = AppIntent.from_body("gpi", "ai", intent.body.encode())
    await client.put_app_intent(DIG, recorded)
    assert puts == [NEWER, NEWER]
    # a rewrite replaces the placement only
    moved = intent.with_intent(single_cluster_intent(ClusterRef("p2", "c2")))
    await client.put_app_intent(DIG, moved)
    assert puts[2]["metadata"] == NEWER["metadata"]
    assert puts[2]["spec"] == {
        "app": "collectd",
        "intent": {"allOf": [{"clusterProvider": "p2", "cluster": "c2"}]},
        "priority": 1.5,
    }
    assert puts[2]["status"] == "ok"


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ([{"metadata": {"name": "ai"}, "spec": []}], "[0].spec"),
        (
            [KNOWN, {"metadata": {"name": "b"}, "spec": {"intent": {"allOf": {}}}}],
            "[1].spec.intent.allOf",
        ),
        ([{"metadata": {"name": 7}}], "[0].metadata.name"),
        ([{"spec": {"app": "a"}}], "[0].metadata.name"),
        ({"metadata": {"name": "ai"}}, ""),
    ],
)
async def test_a_malformed_app_intent_list_is_a_bad_response_naming_the_field(
    answer: Any, field: str
) -> None:
    client = emco_answering(lambda r: httpx.Response(200, json=answer))
    with pytest.raises(ApplicationError) as caught:
        await client.app_intents(DIG, "gpi")
    err = caught.value
    assert err.type == ErrorType.BAD_RESPONSE and err.non_retryable
    assert err.details[0] == {"path": f"{GPI_PATH}/gpi/app-intents", "field": field}
    assert f"GET {GPI_PATH}/gpi/app-intents: {field}" in err.message


async def test_gpi_names_and_the_dig_are_decoded_and_checked_too() -> None:
    gpis = [{"metadata": {"name": "a", "new": 1}}, {"metadata": {"name": "b"}}]
    dig = {"metadata": {"name": "dig"}, "spec": {"logicalCloud": "lc", "future": [1]}}
    answers = {GPI_PATH: gpis, GPI_PATH.rsplit("/", 1)[0]: dig}
    client = emco_answering(lambda r: httpx.Response(200, json=answers[r.url.path]))
    assert await client.placement_intents(DIG) == ["a", "b"]
    assert (await client.dig(DIG)).spec.logical_cloud == "lc"

    bad = emco_answering(lambda r: httpx.Response(200, json={"spec": {"logicalCloud": 5}}))
    with pytest.raises(ApplicationError) as caught:
        await bad.dig(DIG)
    assert caught.value.type == ErrorType.BAD_RESPONSE
    assert caught.value.details[0]["field"] == "spec.logicalCloud"


def test_the_emulator_stores_and_echoes_only_what_emco_knows(emulator: Emulator) -> None:
    setup = build_sample_setup(emulator.url, wait_ready=False)
    newer = {**NEWER, "metadata": {**NEWER["metadata"], "name": setup.app_intent}}
    known = {**KNOWN, "metadata": {**KNOWN["metadata"], "name": setup.app_intent}}
    with httpx.Client(base_url=emulator.url, timeout=10) as http:
        put = http.put(setup.app_intent_path, json=newer)
        assert put.status_code == 200
        assert put.json() == known
        got = http.get(setup.app_intent_path, headers={"Accept": "application/json"})
        assert got.content == json.dumps(known, separators=(",", ":")).encode() + b"\n"
