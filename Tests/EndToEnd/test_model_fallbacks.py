"""OpenRouter's model fallbacks on POST /audio/speech, end to end: `models` lists the models to
try after `model`; one whose upstream fails before its first audio (here: a deployment on a
closed port) hands the request to the next. One generation whatever happens, recorded and
charged as the model that served, at its price; when every model fails, the last one's error
comes back and nothing is charged; a bad `models` is a 400 that records nothing."""

from __future__ import annotations

import sqlite3

import pytest
import requests

from fake_openai import serve_in_thread
from support import free_port, pcm_peak, pcm_seconds
from test_routing import finished_generation
from test_upstream_and_accounts import Instance, create_key
from test_upstream_rate import tone

DEAD = "test/dead"  # its only deployment's port is closed
ALSO_DEAD = "test/also-dead"
LIVE = "test/live"  # a fake OpenAI-compatible upstream
DEAD_PRICE, LIVE_PRICE, FLITE_PRICE = 0.001, 0.000002, 0.000003
TEXT = "Hello there, fallbacks."


def upstream_model(name: str, port: int, price: float) -> dict:
    tag = "openai/" + name.lower().replace(" ", "-")
    return {"voices": ["alloy", "af_heart"], "price_per_character": f"{price:.6f}",
            "deployments": [{"provider": "openai", "tag": tag, "name": name, "api_key_env": "BOX_KEY",
                             "model": "kokoro", "base_url": f"http://127.0.0.1:{port}/v1"}]}


class Gateway:
    """Two dead upstream models, a live one and a priced local/flite, behind a gateway with a key."""

    def __init__(self, tmp_path, *key_args: str):
        self.pcm = tone(24000, 0.5)
        self.box = serve_in_thread(free_port(), "box-key", b"unused mp3", self.pcm)
        self.data_dir = tmp_path
        key = create_key(tmp_path, *key_args)
        config = {"models": {
            DEAD: upstream_model("Dead A", free_port(), DEAD_PRICE),
            ALSO_DEAD: upstream_model("Dead B", free_port(), DEAD_PRICE),
            LIVE: upstream_model("Live", self.box.server_address[1], LIVE_PRICE),
            "local/flite": {"price_per_character": f"{FLITE_PRICE:.6f}"},
        }}
        self.instance = Instance(tmp_path, config=config, env={"BOX_KEY": "box-key"})
        self.headers = {"Authorization": f"Bearer {key}"}

    def speak(self, **fields) -> requests.Response:
        body = {"input": TEXT, "response_format": "pcm", **fields}
        return requests.post(self.instance.base + "/api/v1/audio/speech", headers=self.headers, json=body,
                             timeout=60)

    def generation(self, response: requests.Response) -> dict:
        return finished_generation(self.instance, self.headers, response.headers["X-Generation-Id"])

    def usage(self) -> float:
        return requests.get(self.instance.base + "/api/v1/key", headers=self.headers,
                            timeout=10).json()["data"]["usage"]

    def rows(self) -> list[tuple]:
        return sqlite3.connect(self.data_dir / "speechrouter.sqlite").execute(
            "SELECT model, status, cost_nanos, price_nanos FROM generations ORDER BY started_at").fetchall()

    def stop(self) -> None:
        self.instance.stop()
        self.box.shutdown()


@pytest.fixture
def gateway(tmp_path):
    gateway = Gateway(tmp_path)
    yield gateway
    gateway.stop()


def test_a_dead_upstream_model_falls_back_to_the_next_and_is_billed_as_it(gateway):
    for attempt in range(2):  # the second time the dead deployment's breaker may refuse at once
        response = gateway.speak(model=DEAD, models=[LIVE], voice="alloy")
        assert response.status_code == 200, response.text
        assert response.content == gateway.pcm
        data = gateway.generation(response)
        assert data["status"] == "completed"
        assert data["model"] == LIVE
        assert data["provider_name"] == "Live"
        assert data["total_cost"] == pytest.approx(len(TEXT) * LIVE_PRICE, abs=1e-12)
        tags = [a["endpoint_id"] for a in data["provider_responses"]]
        assert tags[-1] == "openai/live" and data["provider_responses"][-1]["status"] == 200
        if attempt == 0:
            assert tags == ["openai/dead-a", "openai/live"]
    assert len(gateway.box.received) == 2
    assert gateway.usage() == pytest.approx(2 * len(TEXT) * LIVE_PRICE, abs=1e-12)
    assert [row[:3] for row in gateway.rows()] == [(LIVE, "completed", len(TEXT) * 2000)] * 2


def test_models_without_model_tries_them_in_order_down_to_a_built_in_one(gateway):
    response = gateway.speak(models=[DEAD, ALSO_DEAD, "local/flite"])
    assert response.status_code == 200, response.text
    assert pcm_seconds(response.content) > 0.5 and pcm_peak(response.content) > 1000  # speech, not silence
    data = gateway.generation(response)
    assert data["model"] == "local/flite"
    assert data["provider_name"] == "local"
    assert data["voice"] == "slt"  # flite's own default voice, not an upstream's
    assert data["total_cost"] == pytest.approx(len(TEXT) * FLITE_PRICE, abs=1e-12)
    assert [a["endpoint_id"] for a in data["provider_responses"]] == ["openai/dead-a", "openai/dead-b"]
    assert gateway.usage() == pytest.approx(len(TEXT) * FLITE_PRICE, abs=1e-12)


def test_a_voice_the_first_model_lacks_falls_back_to_a_model_that_has_it(gateway):
    # Flite takes OpenAI's voice names too, but not a Kokoro voice.
    response = gateway.speak(model="local/flite", models=[LIVE], voice="af_heart")
    assert response.status_code == 200, response.text
    assert response.content == gateway.pcm
    data = gateway.generation(response)
    assert data["model"] == LIVE
    assert data["voice"] == "af_heart"
    assert gateway.box.received[-1]["body"]["voice"] == "af_heart"


def test_when_every_model_fails_the_last_ones_error_comes_back_and_nothing_is_charged(gateway):
    response = gateway.speak(model=DEAD, models=[ALSO_DEAD], voice="alloy")
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["code"] == 502
    assert error["metadata"]["provider_name"] == "Dead B"
    assert gateway.rows() == [(ALSO_DEAD, "failed", 0, 1_000_000)]
    assert gateway.usage() == 0

    # No model takes the voice: the last model's 400, and no generation at all.
    response = gateway.speak(model=LIVE, models=["local/flite"], voice="nobody")
    assert response.status_code == 400
    assert "local/flite" in response.json()["error"]["message"]
    assert len(gateway.rows()) == 1


def test_a_bad_models_value_is_a_400_naming_it_that_records_nothing(gateway):
    for models in ["test/live", [], [LIVE, ""], [LIVE, 3], [f"m{i}" for i in range(9)], [LIVE, "nope/none"]]:
        response = gateway.speak(model="local/flite", models=models)
        assert response.status_code == 400, (models, response.text)
        error = response.json()["error"]
        assert error["metadata"]["param"] == "models", models
        assert "models" in error["message"]
    response = gateway.speak(models=None)
    assert response.status_code == 400
    assert response.json()["error"]["metadata"]["param"] == "model"
    assert gateway.rows() == []
    assert len(gateway.box.received) == 0


def test_the_reservation_covers_the_dearest_model(tmp_path):
    # 23 characters: $0.000069 on flite, $0.023 on the dead model; the key may spend $0.01.
    gateway = Gateway(tmp_path, "--limit", "0.01")
    try:
        assert gateway.speak(model="local/flite").status_code == 200
        refused = gateway.speak(model="local/flite", models=[DEAD])
        assert refused.status_code == 402, refused.text
        assert refused.json()["error"]["metadata"]["cost"] == pytest.approx(len(TEXT) * DEAD_PRICE)
    finally:
        gateway.stop()
