"""An OpenAI-compatible upstream whose audio is 22,050 Hz (a Piper voice behind an OpenAI-style
server): whenever the gateway decodes it (pcm, wav, long input in pieces), the audio keeps its
duration and its pitch, and the generation names the upstream model that served it."""

from __future__ import annotations

import io
import math
import sqlite3
import struct
import wave

import numpy
import pytest
import requests

from fake_openai import serve_in_thread
from support import free_port
from test_upstream_and_accounts import UPSTREAM_KEY, Instance, create_key

MODEL = "openai/gpt-4o-mini-tts-2025-12-15"
UPSTREAM_MODEL = "gpt-4o-mini-tts-2025-12-15"
RATE = 22050
SECONDS = 2.0
TONE = 440.0


def tone(rate: int = RATE, seconds: float = SECONDS, frequency: float = TONE) -> bytes:
    count = int(rate * seconds)
    return struct.pack(f"<{count}h", *(int(12000 * math.sin(2 * math.pi * frequency * i / rate))
                                       for i in range(count)))


def pitch(samples: numpy.ndarray, rate: int) -> float:
    spectrum = numpy.abs(numpy.fft.rfft(samples * numpy.hanning(len(samples))))
    return float(numpy.fft.rfftfreq(len(samples), 1 / rate)[int(numpy.argmax(spectrum))])


# How the upstream tells its rate: in the WAV the gateway asks for; or, ignoring that request,
# with headerless pcm described by its Content-Type or an X-Sample-Rate header.
UPSTREAMS = {
    "wav header": {},
    "audio/L16;rate=": {"wav": False, "pcm_content_type": f"audio/L16;rate={RATE};channels=1"},
    "X-Sample-Rate": {"wav": False, "pcm_headers": {"X-Sample-Rate": str(RATE)}},
}


@pytest.fixture(scope="module", params=list(UPSTREAMS))
def gateway(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp("rate")
    upstream = serve_in_thread(free_port(), UPSTREAM_KEY, b"unused mp3", tone(), rate=RATE,
                               **UPSTREAMS[request.param])
    port = upstream.server_address[1]
    key = create_key(directory)
    config = {"models": {MODEL: {"context_length": 20000}}}
    instance = Instance(directory, config=config,
                        env={"OPENAI_API_KEY": UPSTREAM_KEY, "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1"})
    try:
        yield instance, key, upstream, directory
    finally:
        instance.stop()
        upstream.shutdown()


def speak(instance, key, fmt: str, text: str = "Hello there.") -> requests.Response:
    response = requests.post(instance.base + "/api/v1/audio/speech", headers={"Authorization": f"Bearer {key}"},
                             json={"model": MODEL, "input": text, "voice": "alloy", "response_format": fmt},
                             timeout=120)
    assert response.status_code == 200, response.text
    return response


def test_pcm_keeps_the_upstreams_duration_and_pitch(gateway):
    instance, key, upstream, _ = gateway
    response = speak(instance, key, "pcm")
    samples = numpy.frombuffer(response.content, dtype="<i2").astype(float)
    assert len(samples) / 24000 == pytest.approx(SECONDS, abs=0.02)
    assert pitch(samples, 24000) == pytest.approx(TONE, abs=5)
    assert upstream.received[-1]["body"]["response_format"] == "wav"


def test_wav_keeps_the_upstreams_duration_and_pitch(gateway):
    instance, key, _, _ = gateway
    with wave.open(io.BytesIO(speak(instance, key, "wav").content)) as audio:
        rate, frames = audio.getframerate(), audio.readframes(audio.getnframes())
    samples = numpy.frombuffer(frames, dtype="<i2").astype(float)
    assert len(samples) / rate == pytest.approx(SECONDS, abs=0.02)
    assert pitch(samples, rate) == pytest.approx(TONE, abs=5)


def test_long_input_in_pieces_keeps_each_pieces_duration(gateway):
    instance, key, upstream, _ = gateway
    sentence = "This sentence is part of a long input that no single upstream request may carry. "
    before = len(upstream.received)
    response = speak(instance, key, "pcm", sentence * 60)  # ~5,000 characters: two pieces
    pieces = len(upstream.received) - before
    assert pieces == 2
    assert len(response.content) / 2 / 24000 == pytest.approx(pieces * SECONDS, abs=0.04)


def test_the_generation_names_the_upstream_model(gateway):
    instance, key, _, directory = gateway
    generation_id = speak(instance, key, "pcm").headers["X-Generation-Id"]
    data = requests.get(instance.base + "/api/v1/generation", params={"id": generation_id},
                        headers={"Authorization": f"Bearer {key}"}, timeout=10).json()["data"]
    assert data["model"] == MODEL
    assert data["upstream_model"] == UPSTREAM_MODEL
    assert data["provider_name"] == "OpenAI"
    [attempt] = data["provider_responses"]
    assert attempt["latency"] >= 0
    assert {k: v for k, v in attempt.items() if k != "latency"} == {
        "provider_name": "OpenAI", "endpoint_id": "openai", "model_permaslug": UPSTREAM_MODEL, "status": 200,
        "is_byok": False}
    row = sqlite3.connect(directory / "speechrouter.sqlite").execute(
        "SELECT provider, upstream_model FROM generations WHERE id = ?", (generation_id,)).fetchone()
    assert row == ("OpenAI", UPSTREAM_MODEL)


def test_an_upstream_models_endpoint_is_its_provider(gateway):
    instance, _, _, _ = gateway
    data = requests.get(instance.base + f"/api/v1/models/{MODEL}/endpoints", timeout=10).json()["data"]
    assert data["id"] == MODEL
    assert [(e["provider_name"], e["tag"], e["model_id"]) for e in data["endpoints"]] == [("OpenAI", "openai", MODEL)]
