"""The official OpenAI Python SDK, pointed at SpeechRouter, as the seed document uses it."""

from __future__ import annotations

import io
import re
import struct
import wave

import pytest
from openai import OpenAI

from support import (GENERATION_ID_PATTERN, PCM_RATE, assert_completed_row, pcm_peak, pcm_seconds,
                     probe)

TEXT = "The quick brown fox jumps over the lazy dog near the quiet river bank."


@pytest.fixture(scope="module")
def client(server) -> OpenAI:
    return OpenAI(base_url=server.api, api_key=server.key, max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def pcm_reference(client) -> bytes:
    """The same request as the mp3 tests, as raw pcm: the duration every format must match."""
    response = client.audio.speech.create(model="local/flite", voice="alloy", input=TEXT, response_format="pcm")
    assert response.response.headers["content-type"] == "audio/pcm"
    return response.content


def test_pcm_is_24khz_s16le_speech(pcm_reference):
    seconds = pcm_seconds(pcm_reference)  # asserts an even byte count
    assert 1.5 <= seconds <= 8, f"{len(TEXT.split())} words lasted {seconds:.2f} s"
    assert pcm_peak(pcm_reference) > 1000, "pcm is (nearly) silent"


def test_create_write_to_file_mp3(server, client, pcm_reference, workdir):
    path = workdir / "speech.mp3"
    response = client.audio.speech.create(model="local/flite", voice="alloy", input=TEXT, response_format="mp3")
    response.write_to_file(path)

    headers = response.response.headers
    assert headers["content-type"] == "audio/mpeg"
    generation_id = headers["x-generation-id"]
    assert re.match(GENERATION_ID_PATTERN, generation_id), generation_id

    info = probe(path)
    assert (info.codec, info.sample_rate, info.channels) == ("mp3", PCM_RATE, 1), info
    assert 1.5 <= info.duration <= 8, info
    assert abs(info.duration - pcm_seconds(pcm_reference)) <= 0.3, (info, pcm_seconds(pcm_reference))
    assert abs(info.decoded_seconds - pcm_seconds(pcm_reference)) <= 0.3, info

    assert_completed_row(server, generation_id, model="local/flite", voice="alloy", fmt="mp3", text=TEXT)


def test_streaming_response_stream_to_file_mp3(server, client, pcm_reference, workdir):
    path = workdir / "streamed.mp3"
    with client.audio.speech.with_streaming_response.create(
        model="local/flite", voice="alloy", input=TEXT, response_format="mp3"
    ) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        generation_id = response.headers["x-generation-id"]
        response.stream_to_file(path)

    assert re.match(GENERATION_ID_PATTERN, generation_id), generation_id
    info = probe(path)
    assert (info.codec, info.sample_rate, info.channels) == ("mp3", PCM_RATE, 1), info
    assert abs(info.duration - pcm_seconds(pcm_reference)) <= 0.3, (info, pcm_seconds(pcm_reference))
    assert_completed_row(server, generation_id, model="local/flite", voice="alloy", fmt="mp3", text=TEXT)


def test_wav_decodes_with_wave_module_and_matches_pcm(server, client, pcm_reference):
    response = client.audio.speech.create(model="local/flite", voice="alloy", input=TEXT, response_format="wav")
    assert response.response.headers["content-type"] == "audio/wav"
    data = response.content

    # RIFF header, streaming form: 44 bytes, then the samples.
    assert data[0:4] == b"RIFF" and data[8:12] == b"WAVE" and data[12:16] == b"fmt ", data[:44]
    fmt_size, audio_format, channels, rate, byte_rate, block_align, bits = struct.unpack("<IHHIIHH", data[16:36])
    assert (fmt_size, audio_format, channels, rate, byte_rate, block_align, bits) == (
        16, 1, 1, PCM_RATE, PCM_RATE * 2, 2, 16)
    assert data[36:40] == b"data", data[:44]
    (data_size,) = struct.unpack("<I", data[40:44])
    assert data_size in (0xFFFFFFFF, len(data) - 44), data_size
    (riff_size,) = struct.unpack("<I", data[4:8])
    assert riff_size in (0xFFFFFFFF, len(data) - 8), riff_size

    with wave.open(io.BytesIO(data), "rb") as reader:
        assert reader.getframerate() == PCM_RATE
        assert reader.getnchannels() == 1
        assert reader.getsampwidth() == 2
        frames = reader.readframes(reader.getnframes())
    assert len(frames) == len(data) - 44
    nframes = len(frames) // 2
    # Same request, same engine: the same speech as the pcm body, sample for sample in length.
    # (Flite's unvoiced excitation uses rand(), so the samples themselves differ from run to run.)
    assert nframes == len(pcm_reference) // 2, (nframes, len(pcm_reference) // 2)
    assert envelope_correlation(frames, pcm_reference) > 0.9

    generation_id = response.response.headers["x-generation-id"]
    assert_completed_row(server, generation_id, model="local/flite", voice="alloy", fmt="wav", text=TEXT)


def envelope_correlation(a: bytes, b: bytes) -> float:
    """Pearson correlation of the 10 ms loudness envelopes of two s16le signals."""
    import array
    import math

    def envelope(data: bytes) -> list[float]:
        samples = array.array("h")
        samples.frombytes(data)
        step = PCM_RATE // 100
        return [math.sqrt(sum(s * s for s in samples[i:i + step]) / step)
                for i in range(0, len(samples) - step + 1, step)]

    x, y = envelope(a), envelope(b)
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    mx, my = sum(x) / n, sum(y) / n
    cov = sum((p - mx) * (q - my) for p, q in zip(x, y))
    return cov / math.sqrt(sum((p - mx) ** 2 for p in x) * sum((q - my) ** 2 for q in y))


def test_default_format_is_pcm(server, client):
    response = client.audio.speech.with_raw_response.create(model="local/espeak-ng", voice="en-us", input=TEXT)
    assert response.headers["content-type"] == "audio/pcm"
    audio = response.content
    assert 1.5 <= pcm_seconds(audio) <= 10
    assert_completed_row(server, response.headers["x-generation-id"], model="local/espeak-ng", voice="en-us",
                         fmt="pcm", text=TEXT)


def test_sdk_raises_on_unknown_voice(client):
    import openai

    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="local/flite", voice="nobody", input=TEXT)
    assert caught.value.status_code == 400
    body = caught.value.body
    error = body.get("error", body) if isinstance(body, dict) else {}
    assert error.get("code") == 400, body
    assert "nobody" in error.get("message", ""), body
    # OpenAI's own fields name the field at fault, beside OpenRouter's.
    assert (caught.value.type, caught.value.param) == ("invalid_request_error", "voice")
    assert error["metadata"]["param"] == "voice"


def test_sdk_errors_carry_openai_type_and_param(client):
    import openai

    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="local/flite", voice="slt", input=TEXT, speed=9)
    assert (caught.value.type, caught.value.param) == ("invalid_request_error", "speed")
    bad_key = OpenAI(base_url=client.base_url, api_key="sk-sr-v1-" + "0" * 64, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        bad_key.audio.speech.create(model="local/flite", voice="slt", input=TEXT)
    assert (caught.value.type, caught.value.param) == ("authentication_error", None)


def test_models_list_and_retrieve_with_a_slash(client):
    ids = [model.id for model in client.models.list()]
    assert "local/flite" in ids and "local/espeak-ng" in ids
    model = client.models.retrieve("local/flite")  # sent as /models/local%2Fflite
    assert model.id == "local/flite"
    with pytest.raises(Exception) as caught:
        client.models.retrieve("local/no-such-model")
    assert caught.value.status_code == 404
