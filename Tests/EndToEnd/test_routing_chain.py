"""SpeechRouter in front of SpeechRouters: a front gateway whose model has two deployments, each
another SpeechRouter (OpenAI-compatible, with its own key) serving local/flite. When one back
is at capacity it answers 503 with Retry-After; the front routes to the other and the client
sees no error, and the front's record shows both attempts."""

from __future__ import annotations

import pytest
import requests

from support import pcm_peak, pcm_seconds
from test_admission import hold
from test_routing import finished_generation
from test_upstream_and_accounts import Instance, create_key

MODEL = "chain/flite"
# One sentence: with another deployment to fail over to, the front sends its input a sentence at
# a time, and the back's audio of one sentence is the same however the front draws.
TEXT = "The front asks the backs, and since one is full, the other one speaks."


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    backs, keys = [], []
    try:
        for name in ("a", "b"):
            data_dir = tmp_path_factory.mktemp(f"back-{name}")
            keys.append(create_key(data_dir))
            # Back A takes one stream at a time: the test holds that one open.
            backs.append(Instance(data_dir, config={"models": {"local/flite": {"max_concurrent_streams": 1}}}))
        front_dir = tmp_path_factory.mktemp("front")
        deployments = [
            {"provider": "openai", "tag": f"openai/back-{name}", "name": f"Back {name.upper()}",
             "api_key_env": f"BACK_{name.upper()}_KEY", "model": "local/flite", "base_url": back.base + "/api/v1"}
            for name, back in zip(("a", "b"), backs)
        ]
        front = Instance(front_dir, config={"models": {MODEL: {"voices": ["alloy"], "deployments": deployments}}},
                         env={"BACK_A_KEY": keys[0], "BACK_B_KEY": keys[1]})
        backs.append(front)
        yield front, create_key(front_dir), backs[0], keys[0], backs[1], keys[1]
    finally:
        for instance in backs:
            instance.stop()


def speak(instance: Instance, key: str, model: str, provider: dict | None = None) -> requests.Response:
    body = {"model": model, "input": TEXT, "voice": "alloy", "response_format": "pcm"}
    if provider is not None:
        body["provider"] = provider
    return requests.post(instance.base + "/api/v1/audio/speech", json=body, timeout=60,
                         headers={"Authorization": f"Bearer {key}"})


def test_a_back_at_capacity_is_routed_around_with_no_error_to_the_client(chain):
    front, front_key, back_a, key_a, back_b, key_b = chain
    direct = speak(back_b, key_b, "local/flite")
    assert direct.status_code == 200, direct.text
    assert pcm_seconds(direct.content) > 1 and pcm_peak(direct.content) > 1000

    held, _chunks = hold(back_a, key_a, "local/flite")  # back A now serves its one stream
    try:
        full = speak(back_a, key_a, "local/flite")
        assert full.status_code == 503 and int(full.headers["Retry-After"]) >= 1, full.text

        headers = {"Authorization": f"Bearer {front_key}"}
        # Back A first: it answers 503, the front falls back to B within the same request.
        first = speak(front, front_key, MODEL, {"order": ["openai/back-a"]})
        assert first.status_code == 200, first.text
        data = finished_generation(front, headers, first.headers["X-Generation-Id"])
        assert [(a["endpoint_id"], a["status"]) for a in data["provider_responses"]] == [
            ("openai/back-a", 503), ("openai/back-b", 200)]
        assert data["provider_name"] == "Back B"
        assert data["status"] == "completed"

        # However the front draws, every answer is B's audio, whole: the very samples B gives
        # its own client (built-in voices give one text one audio).
        answers = [speak(front, front_key, MODEL) for _ in range(6)]
        assert all(r.status_code == 200 for r in answers), [r.text[:200] for r in answers]
        assert all(r.content == direct.content for r in [first, *answers])
    finally:
        held.close()
