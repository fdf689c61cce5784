"""The operator's view: Prometheus metrics at /metrics (counted from real requests, optionally
behind a bearer token), one JSON log line per request with X-Request-Id, and CORS by allowed
origin. Each test runs its own server, with the flags and environment it needs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from fake_openai import serve_in_thread
from support import Server, binary_path, free_port, start_server, stop_server

UPSTREAM_KEY = "sk-fake-upstream-key-0002"
UPSTREAM_MODEL = "openai/gpt-4o-mini-tts-2025-12-15"
METRICS_TOKEN = "metrics-token-0123456789abcdef"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    """Prometheus' text format: every sample, by name and labels; comments and blank lines skipped."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        name, labels, value = match.groups()
        samples[(name, frozenset(LABEL.findall(labels or "")))] = float(value)
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(server: Server, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.get(server.base_url + "/metrics", headers=headers, timeout=30)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4"), response.headers
    return parse_metrics(response.text)


def wait_for_metrics(server: Server, condition, token: str | None = None, timeout: float = 10) -> dict:
    """A generation's end is counted just after its last byte leaves: polls until `condition` holds."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(server, token)
        if condition(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    directory = tmp_path_factory.mktemp("upstream")
    mp3_path = directory / "fixed.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
                    "-ac", "1", "-ar", "24000", "-c:a", "libmp3lame", "-b:a", "48k", str(mp3_path)], check=True)
    server = serve_in_thread(free_port(), UPSTREAM_KEY, mp3_path.read_bytes(), b"\x01\x00" * 24000)
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def upstream_env(base_url: str, key: str = UPSTREAM_KEY, **more: str) -> dict[str, str]:
    return {**os.environ, "OPENAI_API_KEY": key, "OPENAI_BASE_URL": base_url, **more}


def test_metrics_count_speech_errors_and_upstream_requests(upstream, tmp_path):
    server = start_server(tmp_path, env=upstream_env(upstream))
    try:
        before = scrape(server)
        texts = ["Metrics count this sentence.", "And this second one, too."]
        for text in texts:
            response = server.speech({"model": "local/flite", "input": text, "voice": "alloy", "response_format": "pcm"})
            assert response.status_code == 200, response.text[:300]
            assert len(response.content) > 0
        refused = server.speech({"model": "local/flite", "input": "Hello.", "voice": "no-such-voice"})
        assert refused.status_code == 400, refused.text[:300]
        upstream_text = "Through the fake upstream."
        spoken = server.speech({"model": UPSTREAM_MODEL, "input": upstream_text, "voice": "alloy",
                                "response_format": "mp3"})
        assert spoken.status_code == 200, spoken.text[:300]

        def delta(samples, name, **labels):
            return value(samples, name, **labels) - value(before, name, **labels)

        flite = {"model": "local/flite", "provider": "local", "outcome": "completed"}
        openai = {"model": UPSTREAM_MODEL, "provider": "OpenAI", "outcome": "completed"}
        after = wait_for_metrics(server, lambda s: delta(s, "speechrouter_speech_requests_total", **flite) >= 2
                                 and delta(s, "speechrouter_speech_requests_total", **openai) >= 1
                                 # An end is counted when its lease records it, and leaves the
                                 # in-flight gauge once it is written to the store, just after.
                                 and value(s, "speechrouter_streams_in_flight") == 0)
        speech_route = {"method": "POST", "route": "/api/v1/audio/speech"}
        assert delta(after, "speechrouter_http_requests_total", **speech_route, status="200") == 3
        assert delta(after, "speechrouter_http_requests_total", **speech_route, status="400") == 1
        assert delta(after, "speechrouter_speech_requests_total", **flite) == 2
        assert delta(after, "speechrouter_speech_requests_total", **openai) == 1
        assert delta(after, "speechrouter_speech_requests_total", model="local/flite", provider="local",
                     outcome="failed") == 0
        assert delta(after, "speechrouter_billed_characters_total", model="local/flite") == sum(map(len, texts))
        assert delta(after, "speechrouter_billed_characters_total", model=UPSTREAM_MODEL) == len(upstream_text)
        for histogram in ("speechrouter_time_to_first_byte_seconds", "speechrouter_generation_duration_seconds"):
            assert delta(after, f"{histogram}_count", model="local/flite", provider="local") == 2, histogram
            assert delta(after, f"{histogram}_count", model=UPSTREAM_MODEL, provider="OpenAI") == 1, histogram
            assert delta(after, f"{histogram}_sum", model="local/flite", provider="local") > 0, histogram
        assert value(after, "speechrouter_streams_in_flight") == 0
        assert value(after, "speechrouter_engine_streams_admitted", model="local/flite") == 0
        assert value(after, "speechrouter_engine_queue_depth", model="local/flite") == 0
        # The scrapes themselves are requests too.
        assert delta(after, "speechrouter_http_requests_total", method="GET", route="/metrics", status="200") >= 1
    finally:
        stop_server(server)


def test_metrics_behind_a_bearer_token_and_upstream_errors_by_kind(upstream, tmp_path):
    # The gateway's upstream key is wrong: the upstream answers 401, counted as a credentials error.
    env = upstream_env(upstream, key="sk-wrong-upstream-key", SPEECHROUTER_METRICS_TOKEN=METRICS_TOKEN)
    server = start_server(tmp_path, env=env)
    try:
        for headers in ({}, {"Authorization": "Bearer not-the-token-at-all-0000"}, {"Authorization": server.key}):
            refused = requests.get(server.base_url + "/metrics", headers=headers, timeout=30)
            assert refused.status_code == 401, refused.text[:300]
            assert refused.json()["error"]["code"] == 401
            assert refused.headers["WWW-Authenticate"] == "Bearer"
        failed = server.speech({"model": UPSTREAM_MODEL, "input": "Refused upstream.", "voice": "alloy"})
        assert failed.status_code >= 500, failed.text[:300]
        samples = wait_for_metrics(
            server, lambda s: value(s, "speechrouter_speech_requests_total", model=UPSTREAM_MODEL, provider="OpenAI",
                                    outcome="failed") == 1, token=METRICS_TOKEN)
        assert value(samples, "speechrouter_upstream_errors_total", provider="OpenAI", kind="credentials") == 1
        assert value(samples, "speechrouter_speech_requests_total", model=UPSTREAM_MODEL, provider="OpenAI",
                     outcome="failed") == 1
        assert value(samples, "speechrouter_billed_characters_total", model=UPSTREAM_MODEL) == 0
        assert value(samples, "speechrouter_http_requests_total", method="GET", route="/metrics", status="401") == 3
    finally:
        stop_server(server)
    assert METRICS_TOKEN not in server.log_path.read_text(errors="replace")


def log_lines(server: Server) -> list[dict]:
    lines = []
    for line in server.log_path.read_text(errors="replace").splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue  # what a C library prints on its own
    return lines


def request_line(server: Server, request_id: str, timeout: float = 10) -> dict:
    """The request's log line is written once its response has been sent: polls for it."""
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in log_lines(server) if line.get("request_id") == request_id
                 and line.get("message") == "request"]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, f"{len(found)} request lines for {request_id}:\n{server.log_tail()}"
            return found[0]
        time.sleep(0.1)


def test_json_request_log_line_and_request_id(tmp_path):
    server = start_server(tmp_path, args=["--log-format", "json"])
    try:
        text = "Logged in one line."
        response = server.speech({"model": "local/flite", "input": text, "voice": "alloy", "response_format": "pcm"},
                                 headers={"X-Request-Id": "client-chosen:id_1.2-3"})
        assert response.status_code == 200, response.text[:300]
        assert response.headers["X-Request-Id"] == "client-chosen:id_1.2-3"
        line = request_line(server, "client-chosen:id_1.2-3")
        assert line["level"] == "info" and line["label"] == "speechrouter"
        assert line["method"] == "POST" and line["path"] == "/api/v1/audio/speech"
        assert line["status"] == 200
        assert isinstance(line["duration_ms"], (int, float)) and line["duration_ms"] > 0
        assert line["generation"] == response.headers["X-Generation-Id"]
        assert line["key"] == "e2e"
        assert line["model"] == "local/flite" and line["provider"] == "local"
        assert line["characters"] == len(text)
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", line["time"]), line["time"]

        # An unsafe or oversized id is replaced by one of ours; an error is logged the same way.
        for sent in ("has spaces and \"quotes\"", "x" * 129):
            refused = requests.get(server.api + "/key", headers={"X-Request-Id": sent}, timeout=30)
            assert refused.status_code == 401
            generated = refused.headers["X-Request-Id"]
            assert re.match(r"^req-[0-9a-f]{32}$", generated), generated
            line = request_line(server, generated)
            assert line["status"] == 401 and line["path"] == "/api/v1/key" and "key" not in line
        assert server.key not in server.log_path.read_text(errors="replace")
    finally:
        stop_server(server)


def preflight(server: Server, origin: str) -> requests.Response:
    return requests.options(server.base_url + "/api/v1/audio/speech", timeout=30, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-stainless-lang"})


def test_cors_only_for_allowed_origins(tmp_path):
    allowed = "https://app.example.com"
    server = start_server(tmp_path / "cors", args=["--cors-origin", allowed])
    same_origin = start_server(tmp_path / "default")
    try:
        response = preflight(server, allowed)
        assert response.status_code == 204, response.text[:300]
        assert response.headers["Access-Control-Allow-Origin"] == allowed
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert response.headers["Access-Control-Allow-Headers"] == "authorization, content-type, x-stainless-lang"
        assert "Origin" in response.headers["Vary"]

        spoken = server.speech({"model": "local/flite", "input": "Cross origin.", "voice": "alloy"},
                               headers={"Origin": allowed})
        assert spoken.status_code == 200
        assert spoken.headers["Access-Control-Allow-Origin"] == allowed
        assert "X-Generation-Id" in spoken.headers["Access-Control-Expose-Headers"]

        for other, answering in (("https://evil.example.net", server), (allowed, same_origin)):
            refused = preflight(answering, other)
            assert refused.status_code == 405, refused.text[:300]
            assert not [name for name in refused.headers if name.lower().startswith("access-control-")], refused.headers
            plain = answering.speech({"model": "local/flite", "input": "No CORS.", "voice": "alloy"},
                                     headers={"Origin": other})
            assert plain.status_code == 200
            assert "Access-Control-Allow-Origin" not in plain.headers
    finally:
        stop_server(server)
        stop_server(same_origin)


def test_bad_operations_settings_are_refused_before_serving(tmp_path):
    for args, env, message in (
        (["--cors-origin", "https://app.example.com/path"], {}, "--cors-origin"),
        (["--log-format", "xml"], {}, "log-format"),
        ([], {"SPEECHROUTER_METRICS_TOKEN": "tooShortToken"}, "SPEECHROUTER_METRICS_TOKEN"),
    ):
        result = subprocess.run([str(binary_path()), "serve", "--port", str(free_port()), "--data-dir", str(tmp_path),
                                 *args], capture_output=True, text=True, timeout=60, env={**os.environ, **env})
        assert result.returncode != 0, (args, env, result.stdout[-500:])
        assert message in result.stderr, result.stderr[-500:]
        assert "tooShortToken" not in result.stderr + result.stdout
