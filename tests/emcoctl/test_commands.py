"""apply/update/get/delete against a recording `httpx.MockTransport`."""

from __future__ import annotations

import email.parser
import email.policy
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from emco_migrate import cli
from emco_migrate.emcoctl import main as emcoctl_main
from emco_migrate.emcoctl.client import EmcoHttp, new_http_client
from emco_migrate.emcoctl.commands import RunAborted, Runner, Verb
from emco_migrate.emcoctl.config import EmcoctlConfig
from emco_migrate.emcoctl.documents import parse_documents

CONFIG = EmcoctlConfig.from_text(
    "orchestrator: {host: orch, port: 9015}\n"
    "clm: {host: clm, port: 9061}\n"
    "dcm: {host: dcm, port: 9077}\n"
    "workflowmgr: {host: wfm, port: 9095}\n"
)
DIG = "projects/p1/composite-apps/ca/v1/deployment-intent-groups/dig1"


@dataclass
class Recorder:
    """Answers every request with ``status`` (or a per-path override) and records it."""

    status: int = 201
    body: str = ""
    by_path: dict[str, tuple[int, str]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        status, text = self.by_path.get(request.url.path, (self.status, self.body))
        return httpx.Response(status, text=text)

    @property
    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, str(r.url)) for r in self.requests]


@dataclass
class Harness:
    recorder: Recorder
    out: io.StringIO
    sleeps: list[float]

    def runner(self, *, stop: bool = False, wait: float = 0) -> Runner:
        client = new_http_client(transport=httpx.MockTransport(self.recorder))
        return Runner(
            EmcoHttp(client, CONFIG),
            out=self.out,
            stop_on_error=stop,
            accept_wait_seconds=wait,
            sleep=self.sleeps.append,
        )

    def run(self, verb: Verb, text: str, **kwargs: Any) -> Any:
        return self.runner(**kwargs).run(verb, parse_documents(text))


@pytest.fixture
def harness() -> Harness:
    return Harness(Recorder(), io.StringIO(), [])


def form_parts(request: httpx.Request) -> list[tuple[str, str | None, str, bytes]]:
    """(name, filename, content type, data) of each part of a multipart body."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    parts = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        assert isinstance(name, str)
        assert isinstance(data, bytes)
        parts.append((name, part.get_filename(), part.get_content_type(), data))
    return parts


PROJECT = "version: emco/v2\nresourceContext: {anchor: projects}\nmetadata: {name: p1}\n"


def test_apply_posts_json_and_prints_like_emcoctl(harness: Harness) -> None:
    harness.recorder.body = '{"metadata":{"name":"p1"}}\n'
    result = harness.run(Verb.APPLY, PROJECT)
    assert result.ok == 1
    [request] = harness.recorder.requests
    assert request.method == "POST"
    assert str(request.url) == "http://orch:9015/v2/projects"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.content == b'{"metadata":{"name":"p1"}}'
    assert harness.out.getvalue() == (
        "---\n"
        "POST  --> URL: http://orch:9015/v2/projects\n"
        "Response Code: 201\n"
        'Response: {"metadata":{"name":"p1"}}\n'
    )


def test_apply_with_file_is_multipart_metadata_then_file_named_filename(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chart = gzip.compress(b"not really a tar")
    (tmp_path / "charts").mkdir()
    (tmp_path / "charts" / "app.tgz").write_bytes(chart)
    monkeypatch.chdir(tmp_path)  # file: paths are relative to the current directory
    harness.run(
        Verb.APPLY,
        "resourceContext: {anchor: projects/p1/composite-apps/ca/v1/apps}\n"
        "metadata: {name: app1}\nfile: charts/app.tgz\n",
    )
    [request] = harness.recorder.requests
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert "accept" not in request.headers
    assert form_parts(request) == [
        ("metadata", None, "text/plain", b'{"metadata":{"name":"app1"}}'),
        ("file", "filename", "application/x-gzip", chart),
    ]


def test_apply_with_files_sends_one_part_per_file(harness: Harness, tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "b.txt").write_text("hello")
    harness.run(
        Verb.APPLY,
        f"resourceContext: {{anchor: projects/p1/x}}\nmetadata: {{name: n}}\n"
        f"files: [{tmp_path / 'a.json'}, {tmp_path / 'b.txt'}]\n",
    )
    parts = form_parts(harness.recorder.requests[0])
    assert [(p[0], p[1]) for p in parts] == [
        ("metadata", None),
        ("files", "a.json"),
        ("files", "b.txt"),
    ]
    assert parts[2][2:] == ("text/plain", b"hello")


def test_unreadable_file_stops_the_run(harness: Harness) -> None:
    text = "resourceContext: {anchor: projects/p1/x}\nfile: /no/such/file.tgz\n---\n" + PROJECT
    with pytest.raises(RunAborted, match=r"cannot read '/no/such/file\.tgz'"):
        harness.run(Verb.APPLY, text)
    assert harness.recorder.requests == []


def test_update_puts_to_the_resource_and_skips_actions(harness: Harness) -> None:
    text = (
        "resourceContext: {anchor: projects/p1/composite-apps}\n"
        "metadata: {name: ca}\nspec: {compositeAppVersion: v1}\n---\n"
        "resourceContext: {anchor: cluster-providers/pr/clusters/c1/labels}\n"
        "clusterLabel: edge\n---\n"
        f"resourceContext: {{anchor: {DIG}/approve}}\n---\n"
        f"resourceContext: {{anchor: {DIG}/instantiate}}\n---\n" + PROJECT
    )
    result = harness.run(Verb.UPDATE, text)
    assert harness.recorder.calls == [
        ("PUT", "http://orch:9015/v2/projects/p1/composite-apps/ca/v1"),
        ("PUT", "http://clm:9061/v2/cluster-providers/pr/clusters/c1/labels/edge"),
        ("PUT", "http://orch:9015/v2/projects/p1"),
    ]
    assert (result.ok, result.skipped) == (3, 2)


def test_get_skips_actions_and_sets_accept_only_for_single_apps(harness: Harness) -> None:
    status = f"{DIG}/temporal-workflow-intents/w1/status?temporalServer=h:7233&workflowID=w1"
    text = "\n---\n".join(
        [
            PROJECT,
            "resourceContext: {anchor: projects/p1/composite-apps/ca/v1/apps}\n"
            "metadata: {name: app1}",
            f"resourceContext: {{anchor: {DIG}/approve}}",
            f"resourceContext: {{anchor: {DIG}/stop}}",
            f"resourceContext: {{anchor: '{status}'}}",
        ]
    )
    harness.recorder.status = 200
    result = harness.run(Verb.GET, text)
    requests = harness.recorder.requests
    assert harness.recorder.calls == [
        ("GET", "http://orch:9015/v2/projects/p1"),
        ("GET", "http://orch:9015/v2/projects/p1/composite-apps/ca/v1/apps/app1"),
        ("GET", f"http://wfm:9095/v2/{status}"),
    ]
    assert "accept" not in requests[0].headers
    assert requests[1].headers["accept"] == "application/json"
    assert "accept" not in requests[2].headers
    assert (result.ok, result.skipped) == (3, 2)


def test_delete_walks_backwards_and_terminates_instantiated_things(harness: Harness) -> None:
    text = "\n---\n".join(
        [
            "resourceContext: {anchor: projects/p1/composite-apps}\n"
            "metadata: {name: ca}\nspec: {compositeAppVersion: v1}",
            "resourceContext: {anchor: projects/p1/logical-clouds/lc1/instantiate}",
            f"resourceContext: {{anchor: {DIG}/approve}}",
            f"resourceContext: {{anchor: {DIG}/instantiate}}",
            f"resourceContext: {{anchor: '{DIG}/temporal-workflow-intents/w/status?a=b'}}",
            "resourceContext: {anchor: cluster-providers/pr/clusters/c1/labels}\nclusterLabel: e1",
        ]
    )
    harness.recorder.status = 204
    result = harness.run(Verb.DELETE, text)
    assert harness.recorder.calls == [
        ("DELETE", "http://clm:9061/v2/cluster-providers/pr/clusters/c1/labels/e1"),
        ("POST", f"http://orch:9015/v2/{DIG}/terminate"),
        ("POST", "http://dcm:9077/v2/projects/p1/logical-clouds/lc1/terminate"),
        ("DELETE", "http://orch:9015/v2/projects/p1/composite-apps/ca/v1"),
    ]
    terminate = harness.recorder.requests[1]
    assert terminate.content == b""
    assert terminate.headers["content-type"] == "application/json"
    assert (result.ok, result.skipped) == (4, 2)


def test_failures_continue_without_stop(harness: Harness) -> None:
    harness.recorder.by_path["/v2/projects"] = (409, "Project already exists\n")
    result = harness.run(Verb.APPLY, PROJECT + "---\n" + PROJECT.replace("p1", "p2"))
    assert (result.ok, result.failed, result.stopped) == (0, 2, False)
    assert len(harness.recorder.requests) == 2
    assert "Response Code: 409\nResponse: Project already exists\n" in harness.out.getvalue()


def test_stop_ends_at_the_first_failure(harness: Harness) -> None:
    harness.recorder.by_path["/v2/projects"] = (409, "exists")
    text = PROJECT + "---\n" + PROJECT + "---\nresourceContext: {anchor: controllers}\n"
    result = harness.run(Verb.APPLY, text, stop=True)
    assert (result.ok, result.failed, result.stopped) == (0, 1, True)
    assert len(harness.recorder.requests) == 1


def test_202_prints_waiting_and_sleeps_wait_seconds(harness: Harness) -> None:
    harness.recorder.status = 202
    text = f"resourceContext: {{anchor: {DIG}/approve}}\n---\n"
    text += f"resourceContext: {{anchor: {DIG}/instantiate}}\n"
    harness.run(Verb.APPLY, text, wait=3)
    assert harness.sleeps == [3, 3]
    assert harness.out.getvalue().count("API Response code 202. Waiting...\n") == 2


def test_no_sleep_by_default(harness: Harness) -> None:
    harness.recorder.status = 202
    harness.run(Verb.APPLY, f"resourceContext: {{anchor: {DIG}/approve}}\n")
    assert harness.sleeps == []


def test_transport_errors_stop_even_without_stop_flag(harness: Harness) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = new_http_client(transport=httpx.MockTransport(refuse))
    runner = Runner(EmcoHttp(client, CONFIG), out=harness.out)
    with pytest.raises(RunAborted, match=r"http://orch:9015/v2/projects: ConnectError"):
        runner.run(Verb.APPLY, parse_documents(PROJECT + "---\n" + PROJECT))


def test_unroutable_anchor_stops(harness: Harness) -> None:
    with pytest.raises(RunAborted, match="document 1 \\(no anchor\\): invalid anchor"):
        harness.run(Verb.APPLY, "metadata: {name: x}\n")


def test_bare_anchor_commands(harness: Harness) -> None:
    runner = harness.runner()
    runner.run_anchor(Verb.APPLY, f"{DIG}/approve")
    runner.run_anchor(Verb.GET, "projects/p1/composite-apps/ca/v1/apps/a")
    runner.run_anchor(Verb.DELETE, "projects/p1")
    assert harness.recorder.calls == [
        ("POST", f"http://orch:9015/v2/{DIG}/approve"),
        ("GET", "http://orch:9015/v2/projects/p1/composite-apps/ca/v1/apps/a"),
        ("DELETE", "http://orch:9015/v2/projects/p1"),
    ]
    assert harness.recorder.requests[0].content == b""


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    recorder = Recorder()

    def client(**kwargs: Any) -> httpx.Client:
        return new_http_client(transport=httpx.MockTransport(recorder), **kwargs)

    monkeypatch.setattr(emcoctl_main, "new_http_client", client)
    yield recorder


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("ingress: {host: emco, port: 9015}\n")
    doc = tmp_path / "doc.yaml"
    doc.write_text(
        "version: emco/v2\nresourceContext: {anchor: projects}\nmetadata: {name: '{{.P}}'}\n"
    )
    values = tmp_path / "values.yaml"
    values.write_text("P: proj1\n")
    return {"cfg": cfg, "doc": doc, "values": values}


def test_cli_exit_zero_when_all_succeed(
    cli_recorder: Recorder, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["emcoctl", "--config", str(files["cfg"]), "apply"]
    argv += ["-v", str(files["values"]), "-f", str(files["doc"])]
    assert cli.main(argv) == 0
    assert cli_recorder.calls == [("POST", "http://emco:9015/v2/projects")]
    assert cli_recorder.requests[0].content == b'{"metadata":{"name":"proj1"}}'
    captured = capsys.readouterr()
    assert "POST  --> URL: http://emco:9015/v2/projects\nResponse Code: 201\n" in captured.out
    assert f"Using config file: {files['cfg']}" in captured.err


def test_cli_exit_one_when_a_request_fails(
    cli_recorder: Recorder, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    cli_recorder.status = 500
    argv = ["emcoctl", "get", "--config", str(files["cfg"]), "-s", "-f", str(files["doc"])]
    assert cli.main(argv) == 1
    assert "1 of 1 requests failed (stopped by -s)" in capsys.readouterr().err


def test_cli_token_and_only_first_file(
    cli_recorder: Recorder, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["emcoctl", "--config", str(files["cfg"]), "delete", "-t", "tok"]
    argv += ["-f", f"{files['doc']},{files['values']}", "-v", str(files["values"])]
    assert cli.main(argv) == 0
    assert cli_recorder.requests[0].headers["authorization"] == "Bearer tok"
    assert cli_recorder.calls == [("DELETE", "http://emco:9015/v2/projects/proj1")]
    assert "uses only the first -f" in capsys.readouterr().err


def test_cli_user_errors_are_one_line(
    cli_recorder: Recorder, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["emcoctl", "apply", "--config", str(files["cfg"])]) == 1
    assert "apply needs -f FILE or an anchor" in capsys.readouterr().err
    missing = str(files["doc"].with_name("nope.yaml"))
    assert cli.main(["emcoctl", "apply", "--config", str(files["cfg"]), "-f", missing]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert cli_recorder.requests == []
