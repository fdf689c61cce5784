"""Word timings: `return_timestamps` with SSE, and `POST /audio/captioned_speech` as JSON, WebVTT
and SubRip. Times are checked against the decoded audio: each word's interval holds speech, the
gaps at sentence ends hold silence."""

from __future__ import annotations

import array
import base64
import json
import math
import os
import subprocess

import pytest

from support import assert_error, free_port, start_server, stop_server

TEXT = "The quick brown fox jumps over the lazy dog. Then seven tired cats slept!"
WORDS = ["The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog",
         "Then", "seven", "tired", "cats", "slept"]
RATE = 24_000


def samples(pcm: bytes) -> array.array:
    values = array.array("h")
    values.frombytes(pcm)
    return values


def rms(values, start: float, end: float) -> float:
    part = values[max(int(start * RATE), 0):min(int(end * RATE), len(values))]
    return math.sqrt(sum(v * v for v in part) / len(part)) if part else 0.0


def sse_events(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/event-stream"
    events = []
    for block in response.text.split("\n\n"):
        if block.strip():
            assert block.startswith("data: "), block
            events.append(json.loads(block[len("data: "):]))
    return events


def check_words(words: list[dict], pcm: bytes, text: str = TEXT) -> None:
    """Every word inside the audio and over speech, in order, without overlaps, at its place in
    the input; the pause between the two sentences silent."""
    values = samples(pcm)
    seconds = len(values) / RATE
    assert [w["word"] for w in words] == WORDS, words
    for word in words:
        assert 0 <= word["start_time"] < word["end_time"] <= seconds + 1e-6, (word, seconds)
        assert text[word["char_start"]:word["char_end"]] == word["word"], word
        assert rms(values, word["start_time"], word["end_time"]) > 300, word
    for word, following in zip(words, words[1:]):
        assert word["end_time"] <= following["start_time"], (word, following)
    dog, then = words[8], words[9]
    assert then["start_time"] - dog["end_time"] > 0.15, (dog, then)
    assert rms(values, dog["end_time"] + 0.02, then["start_time"] - 0.02) < 150, (dog, then)


@pytest.mark.parametrize("model", ["local/flite", "local/espeak-ng"])
def test_sse_sends_a_word_event_after_the_audio_that_holds_it(server, model):
    body = {"model": model, "input": TEXT, "response_format": "pcm", "stream_format": "sse"}
    plain_before = server.speech({**body, "stream_format": "audio"}).content
    events = sse_events(server.speech({**body, "return_timestamps": True}))
    assert events[-1]["type"] == "speech.audio.done"
    audio, words = b"", []
    for event in events[:-1]:
        if event["type"] == "speech.audio.delta":
            audio += base64.b64decode(event["audio"])
        else:
            assert event["type"] == "speech.word" and set(event) == {
                "type", "word", "start_time", "end_time", "char_start", "char_end"}, event
            # A word's audio has arrived before its event.
            assert event["end_time"] <= len(audio) / 2 / RATE + 1e-6, (event, len(audio))
            words.append(event)
    check_words(words, audio)
    # The audio is the plain response's: byte for byte from Flite, which speaks one text as one
    # audio. eSpeak NG does not (two plain runs differ in length by up to 70 ms: it carries
    # noise and pitch state from call to call), so within 100 ms; WordTimingTests holds the
    # pipeline to the same samples given the same eSpeak NG audio.
    if model == "local/flite":
        assert audio == plain_before
    else:
        assert abs(len(audio) - len(plain_before)) < 0.1 * RATE * 2, (len(audio), len(plain_before))
    # Without the field, SSE carries no word events.
    untimed = sse_events(server.speech(body))
    assert {event["type"] for event in untimed} == {"speech.audio.delta", "speech.audio.done"}


@pytest.mark.parametrize("model", ["local/flite", "local/espeak-ng"])
@pytest.mark.parametrize("speed", [1.0, 2.0])
def test_captioned_speech_json_times_words_in_its_audio(server, model, speed):
    response = server.speech({"model": model, "input": TEXT, "response_format": "pcm", "speed": speed},
                             path="/api/v1/audio/captioned_speech")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert "X-Generation-Id" in response.headers
    document = response.json()
    assert set(document) == {"audio", "audio_format", "timestamps"}
    assert document["audio_format"] == "pcm"
    pcm = base64.b64decode(document["audio"])
    check_words(document["timestamps"], pcm)


def cue_texts(subtitles: str) -> list[str]:
    """The text of each cue of a WebVTT or SubRip file, its lines joined by a space."""
    cues = []
    for block in subtitles.strip().split("\n\n"):
        lines = block.split("\n")
        timing = next(i for i, line in enumerate(lines) if "-->" in line)
        cues.append(" ".join(lines[timing + 1:]))
    return cues


@pytest.mark.parametrize("model", ["local/flite", "local/espeak-ng"])
def test_webvtt_and_subrip_are_subtitles_ffmpeg_reads(server, tmp_path, model):
    body = {"model": model, "input": TEXT + " Café  “naïve” friends, really.", "response_format": "mp3"}
    # One cue per sentence, the input's own text with its punctuation and quotes.
    sentences = ["The quick brown fox jumps over the lazy dog.", "Then seven tired cats slept!",
                 "Café “naïve” friends, really."]
    vtt = server.speech({**body, "timestamps_format": "vtt"}, path="/v1/audio/captioned_speech")
    assert vtt.status_code == 200, vtt.text
    assert vtt.headers["Content-Type"] == "text/vtt"
    text = vtt.content.decode("utf-8")
    assert text.startswith("WEBVTT\n\n")
    assert cue_texts(text[len("WEBVTT\n\n"):]) == sentences, text
    # No line longer than the 42 characters of the subtitle guideline.
    assert all(len(line) <= 42 for line in text.split("\n")), text
    (tmp_path / "out.vtt").write_bytes(vtt.content)
    converted = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(tmp_path / "out.vtt"),
                                str(tmp_path / "out.srt")], capture_output=True, text=True, timeout=60)
    assert converted.returncode == 0 and not converted.stderr.strip(), converted.stderr
    srt = server.speech({**body, "timestamps_format": "srt"}, path="/api/v1/audio/captioned_speech")
    assert srt.status_code == 200 and srt.headers["Content-Type"] == "application/x-subrip", srt.text
    (tmp_path / "direct.srt").write_bytes(srt.content)
    for name, codec in [("out.vtt", "webvtt"), ("direct.srt", "subrip"), ("out.srt", "subrip")]:
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "json",
                                str(tmp_path / name)], capture_output=True, text=True, timeout=60)
        assert probe.returncode == 0, probe.stderr
        assert json.loads(probe.stdout)["streams"][0]["codec_name"] == codec, probe.stdout
    # The cues ffmpeg read are the lines the gateway wrote, in order.
    direct = srt.content.decode("utf-8")
    assert direct.split("\n")[0] == "1" and cue_texts(direct) == sentences, direct
    assert cue_texts((tmp_path / "out.srt").read_text(encoding="utf-8")) == sentences


def test_bad_timing_requests_are_refused_naming_the_field(server):
    base = {"model": "local/flite", "input": "Hello there."}
    assert_error(server.speech({**base, "return_timestamps": True}), 400, param="return_timestamps",
                 contains="stream_format")
    assert_error(server.speech({**base, "return_timestamps": "yes"}), 400, param="return_timestamps")
    captioned = "/api/v1/audio/captioned_speech"
    assert_error(server.speech({**base, "stream_format": "sse"}, path=captioned), 400, param="stream_format")
    assert_error(server.speech({**base, "timestamps_format": "ass"}, path=captioned), 400,
                 param="timestamps_format", contains="json, vtt, srt")
    assert_error(server.speech({**base, "timestamps_format": 3}, path=captioned), 400, param="timestamps_format")


def test_a_model_served_upstream_refuses_timings(tmp_path):
    # The request is refused before any upstream is asked, so the upstream need not exist.
    upstream = f"http://127.0.0.1:{free_port()}/v1"
    gateway = start_server(tmp_path, env={**os.environ, "OPENAI_API_KEY": "sk-unused", "OPENAI_BASE_URL": upstream})
    try:
        body = {"model": "openai/gpt-4o-mini-tts-2025-12-15", "input": "Hello there.", "stream_format": "sse",
                "return_timestamps": True}
        assert_error(gateway.speech(body), 400, param="return_timestamps", contains="upstream")
        assert_error(gateway.speech({**body, "stream_format": None}, path="/api/v1/audio/captioned_speech"), 400,
                     param="model", contains="upstream")
    finally:
        stop_server(gateway)
