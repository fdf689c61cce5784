"""Routing across a fleet, end to end: one model with two OpenAI-compatible deployments (two
fake upstreams on loopback ports, each with its own key from its own environment variable).
Both share the traffic, each request's routing preferences pick among them, and the generation
records every attempt."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from fake_openai import serve_in_thread
from support import free_port
from test_upstream_and_accounts import Instance, create_key
from test_upstream_rate import tone

MODEL = "test/fleet"


def finished_generation(instance: Instance, headers: dict, generation_id: str) -> dict:
    """The generation's record once its end is written (the response can arrive first)."""
    deadline = time.monotonic() + 10
    while True:
        data = requests.get(instance.base + "/api/v1/generation", params={"id": generation_id},
                            headers=headers, timeout=10).json()["data"]
        if data["status"] != "running" or time.monotonic() > deadline:
            return data
        time.sleep(0.05)


class Fleet:
    """One model with two fake OpenAI-compatible deployments, A and B (B zero-retention and not
    collecting data), behind a gateway with a key."""

    def __init__(self, tmp_path, breaker: dict | None = None):
        self.pcm = pcm = tone(24000, 0.5)
        self.box_a = box_a = serve_in_thread(free_port(), "key-a", b"unused mp3", pcm)
        self.box_b = box_b = serve_in_thread(free_port(), "key-b", b"unused mp3", pcm)
        key = create_key(tmp_path)
        deployments = [
            {"provider": "openai", "tag": "openai/a", "name": "Box A", "api_key_env": "BOX_A_KEY",
             "model": "kokoro-a", "base_url": f"http://127.0.0.1:{box_a.server_address[1]}/v1"},
            {"provider": "openai", "tag": "openai/b", "name": "Box B", "api_key_env": "BOX_B_KEY",
             "model": "kokoro-b", "base_url": f"http://127.0.0.1:{box_b.server_address[1]}/v1",
             "zdr": True, "data_collection": False},
        ]
        config = {"models": {MODEL: {"voices": ["alloy"], "deployments": deployments}}}
        if breaker is not None:
            config["breaker"] = breaker
        self.instance = Instance(tmp_path, config=config, env={"BOX_A_KEY": "key-a", "BOX_B_KEY": "key-b"})
        self.headers = {"Authorization": f"Bearer {key}"}

    def speak(self, provider: dict | None = None) -> requests.Response:
        body = {"model": MODEL, "input": "Hello there.", "voice": "alloy", "response_format": "pcm"}
        if provider is not None:
            body["provider"] = provider
        return requests.post(self.instance.base + "/api/v1/audio/speech", headers=self.headers, json=body,
                             timeout=60)


def test_two_deployments_share_traffic_and_preferences_steer_it(tmp_path):
    fleet = Fleet(tmp_path)
    pcm, box_a, box_b, instance, headers, speak = (
        fleet.pcm, fleet.box_a, fleet.box_b, fleet.instance, fleet.headers, fleet.speak)

    try:
        for _ in range(30):
            response = speak()
            assert response.status_code == 200, response.text
            assert response.content == pcm
        a, b = len(box_a.received), len(box_b.received)
        assert a + b == 30
        # Equal weights: 15 each expected; fewer than 3 on one side is a one-in-a-million draw.
        assert a >= 3 and b >= 3, (a, b)
        assert {r["body"]["model"] for r in box_a.received} == {"kokoro-a"}
        assert {r["headers"]["Authorization"] for r in box_b.received} == {"Bearer key-b"}

        for provider, served in [({"only": ["openai/a"]}, "a"), ({"zdr": True}, "b"),
                                 ({"data_collection": "deny"}, "b"), ({"ignore": ["openai/b"]}, "a")]:
            before = (len(box_a.received), len(box_b.received))
            response = speak(provider)
            assert response.status_code == 200, response.text
            after = (len(box_a.received), len(box_b.received))
            assert after == ((before[0] + 1, before[1]) if served == "a" else (before[0], before[1] + 1)), provider

        refused = speak({"only": ["openai/a"], "zdr": True})
        assert refused.status_code == 404
        availability = refused.json()["error"]["availability"]
        assert availability["code"] == "privacy_restricted"
        assert availability["excluded_by"] == ["allowed_providers", "data_policy:zdr"]

    finally:
        instance.stop()
        box_a.shutdown()
        box_b.shutdown()


def test_a_dead_deployment_falls_back_and_the_record_lists_both_attempts(tmp_path):
    fleet = Fleet(tmp_path)
    pcm, box_a, box_b, instance, headers, speak = (
        fleet.pcm, fleet.box_a, fleet.box_b, fleet.instance, fleet.headers, fleet.speak)

    try:
        for _ in range(3):  # box A serves first, so the gateway holds open connections to it
            assert speak({"order": ["openai/a"]}).status_code == 200
        # A dead deployment: new connections are refused and the kept-alive ones are closed (after
        # `shutdown()` alone, A's handler threads would go on serving those, and A would answer).
        box_a.kill()
        response = speak({"order": ["openai/a"]})
        assert response.status_code == 200, response.text
        assert response.content == pcm
        assert (len(box_a.received), len(box_b.received)) == (3, 1)
        data = finished_generation(instance, headers, response.headers["X-Generation-Id"])
        attempts = data["provider_responses"]
        assert [a["endpoint_id"] for a in attempts] == ["openai/a", "openai/b"]
        assert [a["status"] for a in attempts] == [None, 200]
        assert data["provider_name"] == "Box B"

        endpoints = requests.get(instance.base + f"/api/v1/models/{MODEL}/endpoints", timeout=10).json()
        listed = {e["tag"]: e for e in endpoints["data"]["endpoints"]}
        assert set(listed) == {"openai/a", "openai/b"}
        assert listed["openai/b"]["uptime_last_30m"] == 100
        assert listed["openai/b"]["latency_last_30m"] >= 0
    finally:
        instance.stop()
        box_b.shutdown()


@pytest.mark.parametrize("breaker, state", [(None, "closed"), ({"consecutive_failures": 1, "cooldown_seconds": 60}, "open")])
def test_the_breaker_opens_after_as_many_failures_as_the_configuration_says(tmp_path, breaker, state):
    fleet = Fleet(tmp_path, breaker=breaker)
    try:
        fleet.box_a.kill()
        response = fleet.speak({"order": ["openai/a"]})
        assert response.status_code == 200 and response.content == fleet.pcm, response.text
        endpoints = requests.get(fleet.instance.base + f"/api/v1/models/{MODEL}/endpoints", timeout=10).json()
        listed = {e["tag"]: e for e in endpoints["data"]["endpoints"]}
        # One failure: the default needs three in a row; the configured breaker opens at one.
        assert (listed["openai/a"]["breaker"], listed["openai/b"]["breaker"]) == (state, "closed")
    finally:
        fleet.instance.stop()
        fleet.box_b.shutdown()


def test_a_deployment_whose_key_variable_is_unset_stops_the_start(tmp_path):
    import subprocess
    from support import binary_path

    config = tmp_path / "config.json"
    config.write_text('{"models": {"test/fleet": {"voices": ["alloy"], "deployments": '
                      '[{"provider": "openai", "api_key_env": "NO_SUCH_KEY_VARIABLE", "model": "m"}]}}}')
    result = subprocess.run([str(binary_path()), "serve", "--port", str(free_port()), "--data-dir", str(tmp_path),
                             "--config", str(config)], capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    assert "models.test/fleet.deployments[0].api_key_env: the environment variable NO_SUCH_KEY_VARIABLE is not set" \
        in result.stdout + result.stderr


def test_least_busy_sends_the_next_stream_to_the_idle_deployment(tmp_path):
    """`routing_strategy: "least-busy"`: while a stream plays on one deployment, the next goes
    to the other, whichever the first went to (with weights alone it would be a coin toss)."""
    release = threading.Event()
    pcm = tone(24000, 0.5)
    boxes = [serve_in_thread(free_port(), f"key-{name}", b"unused mp3", pcm, hold_at=0.5, release=release)
             for name in ("a", "b")]
    key = create_key(tmp_path)
    deployments = [
        {"provider": "openai", "tag": f"openai/{name}", "api_key_env": f"BOX_{name.upper()}_KEY",
         "model": f"kokoro-{name}", "base_url": f"http://127.0.0.1:{box.server_address[1]}/v1"}
        for name, box in zip(("a", "b"), boxes)
    ]
    config = {"models": {MODEL: {"voices": ["alloy"], "routing_strategy": "least-busy", "deployments": deployments}}}
    instance = Instance(tmp_path, config=config, env={"BOX_A_KEY": "key-a", "BOX_B_KEY": "key-b"})
    headers = {"Authorization": f"Bearer {key}"}

    def speak(index: int) -> requests.Response:
        return requests.post(instance.base + "/api/v1/audio/speech", headers=headers, timeout=60,
                             json={"model": MODEL, "input": f"Stream {index}.", "voice": "alloy",
                                   "response_format": "pcm"})

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 20
        while sum(len(box.received) for box in boxes) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    try:
        for round_ in range(3):
            before = [len(box.received) for box in boxes]
            release.clear()
            with ThreadPoolExecutor(2) as pool:
                first = pool.submit(speak, 2 * round_)
                wait_for(sum(before) + 1)  # the first stream is playing (held halfway)
                second = pool.submit(speak, 2 * round_ + 1)
                wait_for(sum(before) + 2)
                release.set()
                responses = [first.result(), second.result()]
            assert all(r.status_code == 200 and r.content == pcm for r in responses), [r.text[:200] for r in responses]
            assert [len(box.received) - b for box, b in zip(boxes, before)] == [1, 1], "both streams went to one deployment"
    finally:
        release.set()
        instance.stop()
        for box in boxes:
            box.shutdown()
