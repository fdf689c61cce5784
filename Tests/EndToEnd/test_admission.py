"""Admission control against the real binary: a built-in model past its stream cap answers 503
with Retry-After at once and records nothing; a key past its concurrent-stream limit gets 429;
a stream's slot comes back when its client goes away."""

from __future__ import annotations

import subprocess
import time

import pytest
import requests

from support import binary_path, pcm_peak, pcm_seconds, text_of_length
from test_lifetimes import database_state
from test_upstream_and_accounts import Instance, create_key

CONFIG = {
    "models": {"local/flite": {"max_concurrent_streams": 1, "price_per_character": "0.001"}},
    "admission": {"max_streams_per_key": 1},
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("admission")
    keys = [create_key(data_dir, "--limit", "100") for _ in range(2)]
    instance = Instance(data_dir, config=CONFIG)
    try:
        yield instance, keys
    finally:
        instance.stop()


def speak(instance, key, model, text="Hello there.", stream=False):
    return requests.post(instance.base + "/api/v1/audio/speech", stream=stream, timeout=120,
                         json={"model": model, "input": text, "response_format": "pcm"},
                         headers={"Authorization": f"Bearer {key}"})


def refusal(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Retry-After"]) >= 1
    error = response.json()["error"]
    assert error["code"] == status
    assert error["metadata"]["retry_after_seconds"] >= 1
    return error


def hold(instance, key, model):
    """A stream that is playing (its first audio has arrived) and stays open: its audio, over an
    hour of pcm, is far more than the socket buffers hold (up to 32 MiB each way on Linux)."""
    response = speak(instance, key, model, text_of_length(90_000), stream=True)
    assert response.status_code == 200, response.text
    chunks = response.iter_content(4096)
    assert next(chunks)
    return response, chunks  # the caller keeps `chunks`: when it is collected, the connection closes


def test_a_model_past_its_stream_cap_is_503_at_once_and_the_slot_returns_when_the_client_leaves(gateway):
    instance, (first, second) = gateway
    held, _chunks = hold(instance, first, "local/flite")
    before = database_state(instance.data_dir)

    error = refusal(speak(instance, second, "local/flite"), 503)
    assert error["metadata"]["error_type"] == "server_overloaded"
    assert error["metadata"]["model"] == "local/flite"
    assert error["metadata"]["max_streams"] == 1
    assert database_state(instance.data_dir) == before, "a refused request records and reserves nothing"

    held.close()  # the listener goes away mid-stream
    deadline = time.monotonic() + 60
    while (response := speak(instance, second, "local/flite")).status_code == 503:
        assert time.monotonic() < deadline, "the slot of a stream whose client left never came back"
        time.sleep(0.1)
    assert response.status_code == 200, response.text
    assert pcm_seconds(response.content) > 0.5 and pcm_peak(response.content) > 1000
    log = (instance.data_dir / f"server-{instance.port}.log").read_text()
    assert "stream capacity" in log and "model=local/flite" in log


def test_a_key_past_its_concurrent_stream_limit_is_429(gateway):
    instance, (first, second) = gateway
    held, _chunks = hold(instance, first, "local/espeak-ng")
    try:
        error = refusal(speak(instance, first, "local/espeak-ng"), 429)
        assert error["metadata"]["error_type"] == "rate_limit_exceeded"
        assert error["metadata"]["max_streams_per_key"] == 1
        other = speak(instance, second, "local/espeak-ng")
        assert other.status_code == 200, other.text
        assert pcm_peak(other.content) > 1000
    finally:
        held.close()


def test_a_keys_own_stream_limit_applies_and_is_range_checked(gateway):
    instance, _ = gateway
    for bad in ["0", "100001", "-3"]:
        result = subprocess.run([str(binary_path()), "keys", "create", "--data-dir", str(instance.data_dir),
                                 f"--max-streams={bad}"], capture_output=True, text=True, timeout=60)
        assert result.returncode != 0 and "--max-streams must be from 1 to 100000" in result.stderr, result.stderr
    own = create_key(instance.data_dir, "--max-streams", "2")
    held = [hold(instance, own, "local/espeak-ng") for _ in range(2)]  # over the default of 1
    try:
        error = refusal(speak(instance, own, "local/espeak-ng"), 429)
        assert error["metadata"]["max_streams_per_key"] == 2
    finally:
        for response, _ in held:
            response.close()
