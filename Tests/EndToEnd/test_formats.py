"""OpenAI's six formats and `stream_format: "sse"`, from a built-in model and from an
OpenAI-compatible upstream: every file decoded by ffmpeg and measured against the pcm of the
same request; SSE read through the official OpenAI SDK, its base64 audio joined and decoded."""

from __future__ import annotations

import base64
import json
import os
import subprocess

import pytest
import requests
from openai import OpenAI

from fake_openai import serve_in_thread
from support import (assert_completed_row, assert_error, free_port, pcm_seconds, probe_bytes, sentences,
                     start_server, stop_server, wait_for_generation)

TEXT = "The quick brown fox jumps over the lazy dog near the quiet river bank."
CONTENT_TYPES = {"mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac",
                 "wav": "audio/wav", "pcm": "audio/pcm"}
CODECS = {"mp3": "mp3", "opus": "opus", "aac": "aac", "flac": "flac", "wav": "pcm_s16le"}
ENCODED = ["mp3", "opus", "aac", "flac", "wav"]
# Lossless formats decode to exactly the pcm's samples. Lossy ones add their codec's padding:
# mp3's decoder delay and last frame (< 0.1 s), AAC's unsignalled priming and last frame (2 × 1024
# samples at most). Opus trims both through its pre-skip and last granule position.
TOLERANCE = {"mp3": 0.1, "opus": 0.005, "aac": 2048 / 24_000 + 0.001, "flac": 0, "wav": 0}

UPSTREAM_KEY = "sk-fake-upstream-key-formats"
UPSTREAM_MODEL = "openai/gpt-4o-mini-tts-2025-12-15"
TONE_SECONDS = 2.0


def sse_events(body: bytes) -> list[dict]:
    """The `data:` payloads of a text/event-stream body, in order: every event is one data line
    and a blank line."""
    text = body.decode()
    assert text.endswith("\n\n"), text[-200:]
    events = []
    for block in text[:-2].split("\n\n"):
        assert block.startswith("data: ") and "\n" not in block, f"not one data line: {block[:200]!r}"
        events.append(json.loads(block[len("data: "):]))
    return events


def joined_audio(events: list[dict], characters: int) -> bytes:
    """Checks the event sequence (deltas, then one done with the usage) and joins the audio."""
    assert len(events) >= 2, events
    *deltas, done = events
    assert all(set(event) == {"type", "audio"} and event["type"] == "speech.audio.delta" for event in deltas), deltas
    assert done == {"type": "speech.audio.done",
                    "usage": {"input_tokens": characters, "output_tokens": 0, "total_tokens": characters}}, done
    return b"".join(base64.b64decode(event["audio"], validate=True) for event in deltas)


def assert_decodes_to(data: bytes, fmt: str, seconds: float, directory) -> None:
    if fmt == "pcm":
        assert pcm_seconds(data) == pytest.approx(seconds, abs=1e-9)
        return
    info = probe_bytes(data, f".{fmt}", directory)
    # An Opus decoder always runs at 48 kHz; OpusHead carries the 24 kHz the input had.
    rate = 48_000 if fmt == "opus" else 24_000
    assert (info.codec, info.sample_rate, info.channels) == (CODECS[fmt], rate, 1), info
    assert seconds - 0.001 <= info.decoded_seconds <= seconds + TOLERANCE[fmt] + 0.001, (fmt, info, seconds)


# --- a built-in model -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def flite_pcm(server) -> bytes:
    response = server.speech({"model": "local/flite", "input": TEXT, "response_format": "pcm"})
    assert response.status_code == 200, response.text
    assert pcm_seconds(response.content) > 1.5
    return response.content


@pytest.mark.parametrize("fmt", ENCODED)
def test_every_format_from_a_builtin_model_decodes_to_the_pcms_duration(server, flite_pcm, fmt, workdir):
    response = server.speech({"model": "local/flite", "input": TEXT, "response_format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == CONTENT_TYPES[fmt]
    assert_decodes_to(response.content, fmt, pcm_seconds(flite_pcm), workdir)
    assert_completed_row(server, response.headers["X-Generation-Id"], model="local/flite", voice="slt", fmt=fmt,
                         text=TEXT)


@pytest.mark.parametrize("fmt", ENCODED + ["pcm"])
def test_the_openai_sdk_reads_sse_events_whose_audio_decodes(server, flite_pcm, fmt, workdir):
    client = OpenAI(base_url=server.api, api_key=server.key, max_retries=0, timeout=120)
    with client.audio.speech.with_streaming_response.create(
            model="local/flite", voice="slt", input=TEXT, response_format=fmt, stream_format="sse") as response:
        assert response.headers["content-type"] == "text/event-stream"
        generation_id = response.headers["x-generation-id"]
        events = sse_events(b"".join(response.iter_bytes()))
    audio = joined_audio(events, len(TEXT))
    assert_decodes_to(audio, fmt, pcm_seconds(flite_pcm), workdir)
    assert_completed_row(server, generation_id, model="local/flite", voice="slt", fmt=fmt, text=TEXT)


def test_a_client_leaving_mid_sse_is_cancelled_and_charged_what_was_delivered(server):
    text = sentences(1000)  # far more audio than is read here
    response = server.speech({"model": "local/flite", "input": text, "response_format": "opus",
                              "stream_format": "sse"}, stream=True)
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/event-stream", response.text
    generation_id = response.headers["X-Generation-Id"]
    first = next(response.iter_lines())
    assert json.loads(first.decode().removeprefix("data: "))["type"] == "speech.audio.delta", first[:200]
    response.close()
    row = wait_for_generation(server, generation_id, "cancelled")
    assert 0 < row["spoken_characters"] < len(text) // 2, row
    server.assert_alive()


def test_stream_format_audio_is_the_plain_response(server):
    response = server.speech({"model": "local/flite", "input": TEXT, "response_format": "wav",
                              "stream_format": "audio"})
    assert response.status_code == 200 and response.headers["Content-Type"] == "audio/wav", response.text


@pytest.mark.parametrize("value", ["chunks", "SSE", 1, ["sse"]])
def test_an_unknown_stream_format_is_a_400_naming_the_field(server, value):
    response = server.speech({"model": "local/flite", "input": TEXT, "stream_format": value})
    assert_error(response, 400, contains="'stream_format'", param="stream_format")


def test_an_error_before_the_first_event_is_json_with_its_status(server):
    response = server.speech({"model": "local/flite", "input": TEXT, "voice": "nobody", "stream_format": "sse"})
    assert_error(response, 400, contains="nobody", param="voice")


# --- an OpenAI-compatible upstream ----------------------------------------------------------------

def encode_tone(fmt: str, directory) -> bytes:
    codec = {"mp3": ["-c:a", "libmp3lame", "-b:a", "48k"], "opus": ["-c:a", "libopus", "-b:a", "32k"],
             "aac": ["-c:a", "aac", "-b:a", "64k"], "flac": ["-c:a", "flac"],
             "pcm": ["-f", "s16le", "-c:a", "pcm_s16le"]}[fmt]
    path = directory / f"tone.{'raw' if fmt == 'pcm' else fmt}"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={TONE_SECONDS}", "-ac", "1", "-ar", "24000", *codec, str(path)],
                   check=True)
    return path.read_bytes()


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """A fake OpenAI that makes every format itself, and a gateway that serves its model."""
    directory = tmp_path_factory.mktemp("formats-upstream")
    tones = {fmt: encode_tone(fmt, directory) for fmt in ["mp3", "opus", "aac", "flac", "pcm"]}
    assert pcm_seconds(tones["pcm"]) == TONE_SECONDS
    fake = serve_in_thread(free_port(), UPSTREAM_KEY, tones["mp3"], tones["pcm"],
                           encoded={fmt: tones[fmt] for fmt in ["opus", "aac", "flac"]})
    gateway = start_server(directory / "data", env={
        **os.environ, "OPENAI_API_KEY": UPSTREAM_KEY, "OPENAI_BASE_URL": f"http://127.0.0.1:{fake.server_address[1]}/v1"})
    try:
        yield gateway, fake, tones
    finally:
        stop_server(gateway)
        fake.shutdown()


@pytest.mark.parametrize("fmt", ENCODED + ["pcm"])
def test_every_format_from_an_upstream_decodes_to_its_duration(upstream, fmt, workdir):
    gateway, fake, tones = upstream
    response = gateway.speech({"model": UPSTREAM_MODEL, "input": "Hello there.", "voice": "alloy",
                               "response_format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == CONTENT_TYPES[fmt]
    sent = fake.received[-1]["body"]["response_format"]
    if fmt in ("wav", "pcm"):
        # Decoded and encoded here, so the gateway's wav and pcm are 24 kHz mono whatever the upstream;
        # asked for as wav, whose header states the upstream's true rate.
        assert sent == "wav"
    else:
        # The upstream makes this format itself: its bytes pass through untouched.
        assert sent == fmt
        assert response.content == tones[fmt]
    assert_decodes_to(response.content, fmt, TONE_SECONDS, workdir)
    row = wait_for_generation(gateway, response.headers["X-Generation-Id"], "completed")
    assert (row["provider"], row["format"]) == ("OpenAI", fmt), row


def test_the_openai_sdk_reads_an_upstreams_audio_as_sse_events(upstream):
    gateway, _, tones = upstream
    client = OpenAI(base_url=gateway.api, api_key=gateway.key, max_retries=0, timeout=120)
    with client.audio.speech.with_streaming_response.create(
            model=UPSTREAM_MODEL, voice="alloy", input="Hello there.", response_format="opus",
            stream_format="sse") as response:
        assert response.headers["content-type"] == "text/event-stream"
        generation_id = response.headers["x-generation-id"]
        events = sse_events(b"".join(response.iter_bytes()))
    assert joined_audio(events, len("Hello there.")) == tones["opus"]
    wait_for_generation(gateway, generation_id, "completed")
