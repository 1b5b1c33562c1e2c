"""EMCO base URLs: what is refused, how request URLs are built, the allowlist, and what of
a non-EMCO answer may be shown."""

from __future__ import annotations

import httpx
import pytest

from emco_migrate.emcomigrate.emco_client import answer_text
from emco_migrate.emcomigrate.endpoints import EmcoUrlPolicy, UrlRefused, base_url, request_url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://host/secret?", "must not have a query"),
        ("http://host/secret?a=b", "must not have a query"),
        ("http://host/secret#", "must not have a fragment"),
        ("http://user:hunter2@host:30415", "must not carry user info"),
        ("http://host:99999", "invalid port"),
        ("http://host:port", "invalid port"),
        ("ftp://host", "http(s) URL"),
        ("host:30415", "http(s) URL"),
        ("http://ho st", "spaces"),
        ("http://h\u00f6st", "non-ASCII"),
        ("http://" + "a" * 3000, "at most 2048"),
    ],
)
def test_refused_base_urls_say_why(url: str, reason: str) -> None:
    with pytest.raises(UrlRefused) as caught:
        base_url(url)
    assert reason in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_request_urls_stay_under_the_base() -> None:
    assert str(request_url(base_url("http://emco:30415/"), "/v2/projects/p%2F1")) == (
        "http://emco:30415/v2/projects/p%2F1"
    )
    assert str(request_url(base_url("https://gw.example/emco/"), "/v2/x")) == (
        "https://gw.example/emco/v2/x"
    )


@pytest.mark.parametrize(
    ("pattern", "allowed", "refused"),
    [
        ("http://10.0.0.*:30415", ["http://10.0.0.7:30415"], ["http://10.0.0.7.evil.example:30415",
                                                              "http://10.0.0.7:30416",
                                                              "https://10.0.0.7:30415"]),
        ("http://emco.example", ["http://emco.example", "http://emco.example:80/x"],
         ["http://emco.example:8080", "http://emco.example.evil"]),
        ("http://emco.example:*", ["http://emco.example:1234"], ["http://other.example:1234"]),
        ("https://gw.example/emco", ["https://gw.example/emco", "https://gw.example/emco/v"],
         ["https://gw.example/emcox", "https://gw.example/"]),
    ],
)  # fmt: skip
def test_allowlist_patterns_match_part_by_part(
    pattern: str, allowed: list[str], refused: list[str]
) -> None:
    policy = EmcoUrlPolicy((pattern,))
    for url in allowed:
        policy.check(url)
    for url in refused:
        with pytest.raises(UrlRefused, match="is not allowed on this deployment"):
            policy.check(url)


def test_allowlist_from_flags_else_env() -> None:
    assert EmcoUrlPolicy.from_sources(["http://a:1"], env="http://b:2").patterns == ("http://a:1",)
    assert EmcoUrlPolicy.from_sources([], env="http://b:2, http://c:3").patterns == (
        "http://b:2", "http://c:3"
    )  # fmt: skip
    assert EmcoUrlPolicy.from_sources(None, env="").allows_all
    with pytest.raises(UrlRefused, match="--allow-emco-url 'http://a:1\\?x'"):
        EmcoUrlPolicy(("http://a:1?x",))


def test_emco_error_lines_are_shown_other_answers_are_not() -> None:
    emco = httpx.Response(404, text="Intent not found\n")
    assert answer_text(emco) == "Intent not found"
    canary = "CANARY-7f3a"
    for other in (
        httpx.Response(200, html=f"<p>{canary}</p>"),
        httpx.Response(404, json={"secret": canary}),
        httpx.Response(500, text=f"{canary}"),  # no newline: not Go's http.Error
        httpx.Response(500, text=f"{canary}\nline two\n"),
        httpx.Response(200, text=f"{canary}\n"),  # EMCO never answers 200 in text
    ):
        shown = answer_text(other)
        assert canary not in shown and "not shown" in shown
    long_line = httpx.Response(400, text="x" * 500 + "\n")
    assert len(answer_text(long_line)) == 123
