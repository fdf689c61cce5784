"""Failover mid-stream: one model with two OpenAI-compatible deployments, A first. Each fake
speaks every sentence of a fixed list of ten as a tone of its own; A dies (as a killed process:
its connections closed, new ones refused) after the third sentence. The client still gets one
file that decodes to all ten tones in order, each once; the generation is completed, charged
for the input once, and lists A's start, A's failure and B's start."""

from __future__ import annotations

import subprocess

import numpy
import pytest
import requests

from fake_openai import serve_in_thread
from support import free_port
from test_routing import finished_generation
from test_upstream_and_accounts import Instance, create_key

MODEL = "test/failover"
PRICE = 0.001
NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
SENTENCES = [f"This is sentence number {number}." for number in NUMBERS]
TEXT = " ".join(SENTENCES)
# `fake_openai.sentence_tone`: sentence i is 0.3 s of (400 + 100 i) Hz.
TONES = [400 + 100 * i for i in range(10)]
RATE = 24000
WINDOW = RATE // 10  # 0.1 s: three windows a sentence


class Fleet:
    def __init__(self, tmp_path):
        self.box_a = serve_in_thread(free_port(), "key-a", b"unused mp3", b"", sentences=SENTENCES, die_after=3)
        self.box_b = serve_in_thread(free_port(), "key-b", b"unused mp3", b"", sentences=SENTENCES)
        key = create_key(tmp_path)
        deployments = [
            {"provider": "openai", "tag": f"openai/{name}", "name": f"Box {name.upper()}",
             "api_key_env": f"BOX_{name.upper()}_KEY", "model": f"kokoro-{name}",
             "base_url": f"http://127.0.0.1:{box.server_address[1]}/v1"}
            for name, box in (("a", self.box_a), ("b", self.box_b))
        ]
        config = {"models": {MODEL: {"voices": ["alloy"], "price_per_character": str(PRICE),
                                     "routing_strategy": "ordered", "deployments": deployments}}}
        self.instance = Instance(tmp_path, config=config, env={"BOX_A_KEY": "key-a", "BOX_B_KEY": "key-b"})
        self.headers = {"Authorization": f"Bearer {key}"}

    def speak(self, fmt: str, provider: dict | None = None) -> tuple[int, str, bytes]:
        """Status, generation id and the body as far as it came (a cut stream raises mid-read)."""
        body = {"model": MODEL, "input": TEXT, "voice": "alloy", "response_format": fmt}
        if provider is not None:
            body["provider"] = provider
        response = requests.post(self.instance.base + "/api/v1/audio/speech", headers=self.headers, json=body,
                                 timeout=60, stream=True)
        audio = b""
        try:
            for chunk in response.iter_content(4096):
                audio += chunk
        except requests.exceptions.ChunkedEncodingError:
            pass  # cut mid-stream
        return response.status_code, response.headers.get("X-Generation-Id", ""), audio

    def close(self):
        self.instance.stop()
        self.box_a.kill()
        self.box_b.kill()


@pytest.fixture
def fleet(tmp_path):
    fleet = Fleet(tmp_path)
    try:
        yield fleet
    finally:
        fleet.close()


def decode(audio: bytes, fmt: str) -> numpy.ndarray:
    """The samples ffmpeg decodes from `audio`, 24 kHz mono."""
    result = subprocess.run(["ffmpeg", "-nostdin", "-v", "quiet", "-f", fmt, "-i", "pipe:0", "-f", "s16le",
                             "-ac", "1", "-ar", str(RATE), "pipe:1"], input=audio, capture_output=True, timeout=60)
    return numpy.frombuffer(result.stdout, dtype="<i2").astype(numpy.float64)


def tones(samples: numpy.ndarray) -> list[tuple[int, int]]:
    """The tone of each 0.1 s window that is not silence (to the nearest 100 Hz), as runs of
    (frequency, windows) in order."""
    runs: list[tuple[int, int]] = []
    for start in range(0, len(samples) - WINDOW + 1, WINDOW):
        window = samples[start:start + WINDOW]
        if numpy.abs(window).max() < 1000:
            continue
        spectrum = numpy.abs(numpy.fft.rfft(window * numpy.hanning(WINDOW)))
        frequency = int(round(numpy.fft.rfftfreq(WINDOW, 1 / RATE)[int(numpy.argmax(spectrum))] / 100) * 100)
        if runs and runs[-1][0] == frequency:
            runs[-1] = (frequency, runs[-1][1] + 1)
        else:
            runs.append((frequency, 1))
    return runs


def inputs(box) -> list[str]:
    return [request["body"]["input"] for request in box.received]


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_a_deployment_killed_after_the_third_sentence_hands_the_rest_to_the_next(fleet, fmt):
    status, generation_id, audio = fleet.speak(fmt)
    assert status == 200
    samples = decode(audio, fmt)
    runs = tones(samples)
    assert [frequency for frequency, _ in runs] == TONES, runs
    if fmt == "wav":
        # Exactly ten sentences of 0.3 s: none missing, none twice.
        assert len(samples) == 10 * 3 * WINDOW
        assert [windows for _, windows in runs] == [3] * 10
    else:
        assert all(2 <= windows <= 4 for _, windows in runs), runs
        # The upstreams' own MP3 joined as it came (no decoding and encoding again): one file,
        # with the first piece's ID3 tag only.
        assert audio.startswith(b"ID3") and audio.count(b"ID3") == 1

    # A sentence a request: A spoke the first three (and was sent the fourth as it died); B went
    # on from the fourth.
    assert inputs(fleet.box_a)[:3] == SENTENCES[:3]
    assert inputs(fleet.box_b) == SENTENCES[3:]

    data = finished_generation(fleet.instance, fleet.headers, generation_id)
    assert data["status"] == "completed", data
    attempts = [(a["endpoint_id"], a["status"]) for a in data["provider_responses"]]
    assert attempts == [("openai/a", 200), ("openai/a", None), ("openai/b", 200)], attempts
    # The record names the deployment that finished the stream.
    assert data["provider_name"] == "Box B", data["provider_name"]
    # Charged for the input once, though the fourth sentence was asked of two deployments.
    assert data["tokens_prompt"] == data["native_tokens_prompt"] == len(TEXT)
    assert data["total_cost"] == pytest.approx(len(TEXT) * PRICE)
    # A's health learnt of its break-off: one attempt served, one failed.
    endpoints = requests.get(fleet.instance.base + f"/api/v1/models/{MODEL}/endpoints", timeout=10).json()
    uptime = {e["tag"]: e["uptime_last_30m"] for e in endpoints["data"]["endpoints"]}
    assert uptime == {"openai/a": 50, "openai/b": 100}, uptime


def test_without_fallbacks_the_stream_is_cut_as_before(fleet):
    status, generation_id, audio = fleet.speak("wav", {"allow_fallbacks": False})
    assert status == 200
    runs = tones(decode(audio, "wav"))
    assert [frequency for frequency, _ in runs] == TONES[:3], runs
    # The one deployment gets the whole input in one request, as before.
    assert inputs(fleet.box_a) == [TEXT]
    assert inputs(fleet.box_b) == []

    data = finished_generation(fleet.instance, fleet.headers, generation_id)
    assert data["status"] == "failed", data
    attempts = [(a["endpoint_id"], a["status"]) for a in data["provider_responses"]]
    assert attempts == [("openai/a", 200), ("openai/a", None)], attempts
    # Its one request had begun to speak the whole input, which the upstream bills: charged whole, as before.
    assert data["total_cost"] == pytest.approx(len(TEXT) * PRICE)
