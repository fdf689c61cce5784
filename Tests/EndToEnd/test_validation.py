"""Every rejection path of POST /api/v1/audio/speech, plus auth and unknown routes: exact status,
OpenRouter's error JSON (error.code == HTTP status), the message and metadata.param."""

from __future__ import annotations

import json
import re
import socket
import threading

import pytest
import requests

from support import assert_completed_row, assert_error, pcm_peak, pcm_seconds

VALID = {"model": "local/flite", "input": "Hello there, how are you?", "voice": "slt", "response_format": "pcm"}


def body_with(**changes):
    body = dict(VALID)
    for key, value in changes.items():
        if value is ...:
            body.pop(key, None)
        else:
            body[key] = value
    return body


@pytest.mark.parametrize("changes, contains, param", [
    pytest.param({"input": ...}, "Missing required field 'input'", "input", id="input-missing"),
    pytest.param({"input": None}, "'input'", "input", id="input-null"),
    pytest.param({"input": ""}, "'input'", "input", id="input-empty"),
    pytest.param({"input": "   \n\t  "}, "'input'", "input", id="input-whitespace"),
    pytest.param({"input": 42}, "'input'", "input", id="input-number"),
    pytest.param({"input": ["Hello"]}, "'input'", "input", id="input-array"),
    pytest.param({"model": ...}, "Missing required field 'model'", "model", id="model-missing"),
    pytest.param({"model": ""}, "'model'", "model", id="model-empty"),
    pytest.param({"model": 7}, "'model'", "model", id="model-number"),
    pytest.param({"model": "acme/nope"}, "Model acme/nope does not exist", "model", id="model-unknown"),
    pytest.param({"voice": 5}, "'voice'", "voice", id="voice-number"),
    pytest.param({"voice": ""}, "'voice'", "voice", id="voice-empty"),
    pytest.param({"speed": 0.1}, "Invalid 'speed'", "speed", id="speed-too-slow"),
    pytest.param({"speed": 5}, "Invalid 'speed'", "speed", id="speed-too-fast"),
    pytest.param({"speed": 4.01}, "Invalid 'speed'", "speed", id="speed-just-above"),
    pytest.param({"speed": 0.2499}, "Invalid 'speed'", "speed", id="speed-just-below"),
    pytest.param({"speed": "fast"}, "Invalid 'speed'", "speed", id="speed-string"),
    pytest.param({"provider": "openai"}, "'provider'", "provider", id="provider-string"),
    pytest.param({"provider": ["openai"]}, "'provider'", "provider", id="provider-array"),
    pytest.param({"response_format": 3}, "'response_format'", "response_format", id="format-number"),
    # Voice cloning: a built-in model cannot clone; malformed references are named before that.
    pytest.param({"input_references": [{"type": "input_audio", "input_audio": {"data": "UklGRg=="}}]},
                 "cannot clone", "input_references", id="references-model-cannot-clone"),
    pytest.param({"input_references": [{"type": "input_audio", "input_audio": {"data": "%%%"}}]},
                 "valid base64", "input_references[0].input_audio.data", id="references-bad-base64"),
    pytest.param({"input_references": [{"type": "input_audio", "input_audio": {"data": "UklGRg=="}}] * 4},
                 "at most 3", "input_references", id="references-too-many"),
    pytest.param({"input_references": [{"type": "text", "text": "only words"}]},
                 "input_audio", "input_references", id="references-no-audio"),
    pytest.param({"input_references": [{"type": "input_audio", "input_audio": {"url": "file:///etc/passwd"}}]},
                 "http or https", "input_references[0].input_audio.url", id="references-url-scheme"),
])
def test_invalid_field(server, changes, contains, param):
    response = server.speech(body_with(**changes))
    assert_error(response, 400, contains=contains, param=param)


def test_unknown_voice_lists_available_voices(server):
    response = server.speech(body_with(voice="nobody"))
    error = assert_error(response, 400, contains="nobody", param="voice")
    assert re.search(r"\bslt\b", error["message"]), error
    assert re.search(r"\balloy\b", error["message"]), error
    allowed = error["metadata"].get("allowed")
    assert isinstance(allowed, list) and {"slt", "rms", "awb", "kal16", "alloy", "cedar"} <= set(allowed), error


def test_unknown_voice_for_espeak_lists_languages(server):
    response = server.speech(body_with(model="local/espeak-ng", voice="kal16"))
    error = assert_error(response, 400, contains="kal16", param="voice")
    assert re.search(r"\ben-us\b", error["message"]), error
    assert {"en-us", "de", "fr", "alloy"} <= set(error["metadata"].get("allowed", [])), error


def test_unknown_response_format_lists_allowed(server):
    response = server.speech(body_with(response_format="ogg"))
    error = assert_error(response, 400, contains=["'response_format'", "mp3, opus, aac, flac, wav, pcm"],
                         param="response_format")
    assert error["metadata"].get("allowed") == ["mp3", "opus", "aac", "flac", "wav", "pcm"], error


def test_input_over_context_length(server):
    text = ("All work and no play. " * 5000)[:100_001]
    response = server.speech(body_with(input=text))
    error = assert_error(response, 400, param="input")
    assert "100000" in error["message"] or "100,000" in error["message"], error


@pytest.mark.parametrize("raw", [
    pytest.param(b'{"model": "local/flite", "input": ', id="truncated"),
    pytest.param(b"model=local/flite&input=hi", id="form-encoded"),
    pytest.param(b'["local/flite", "hi"]', id="array"),
    pytest.param(b'"hello"', id="string"),
    pytest.param(b"", id="empty"),
])
def test_malformed_json(server, raw):
    assert_error(server.speech(raw), 400)


def test_boundary_values_are_accepted(server):
    for speed in (0.25, 4.0):
        response = server.speech(body_with(speed=speed))
        assert response.status_code == 200, (speed, response.text)
        assert pcm_seconds(response.content) > 0.2


def test_unknown_keys_provider_options_and_instructions_are_accepted(server):
    response = server.speech(body_with(
        extra_field={"anything": True},
        instructions="Speak in a calm voice.",
        provider={"options": {"openai": {"instructions": "Be warm."}, "azure": {"style": "cheerful"}}},
    ))
    assert response.status_code == 200, response.text
    assert pcm_peak(response.content) > 1000


# The limit: 1 MiB of request plus three of OpenRouter's 20 MiB reference recordings (63963136 bytes).
BODY_LIMIT = 1024 * 1024 + 3 * 20 * 1024 * 1024


def test_body_over_the_limit_is_413(server):
    body = json.dumps(body_with(input="a" * (BODY_LIMIT + 1000))).encode()
    status, _, payload = raw_post(server, body, chunked=False)
    check_raw_error(status, payload, 413)


def test_chunked_body_over_the_limit_is_413(server):
    body = json.dumps(body_with(input="b" * (BODY_LIMIT + 1000))).encode()
    status, _, payload = raw_post(server, body, chunked=True)
    check_raw_error(status, payload, 413)


def test_missing_authorization_is_401(server):
    response = requests.post(server.api + "/audio/speech", json=VALID, timeout=30)
    assert_error(response, 401, contains="Missing Authentication header")


def test_missing_authorization_wins_over_bad_body(server):
    response = requests.post(server.api + "/audio/speech", data=b"{not json", timeout=30)
    assert_error(response, 401, contains="Missing Authentication header")


@pytest.mark.parametrize("authorization", [
    "Bearer sk-sr-v1-" + "0" * 64,
    "Bearer not-a-key",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
])
def test_wrong_key_is_401(server, authorization):
    response = server.speech(VALID, headers={"Authorization": authorization})
    assert_error(response, 401)


def test_unknown_routes_are_json_404(server):
    for path in ("/api/v1/nope", "/nope", "/api/v1/audio/speeches"):
        response = requests.get(server.base_url + path, headers=server.auth(), timeout=30)
        assert_error(response, 404)


def test_speech_alias_under_v1(server):
    text = "This request uses the OpenAI style base URL."
    response = server.speech(body_with(input=text, response_format="mp3"), path="/v1/audio/speech")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert_completed_row(server, response.headers["X-Generation-Id"], model="local/flite", voice="slt",
                         fmt="mp3", text=text)


@pytest.mark.parametrize("model, default_voice", [("local/flite", "slt"), ("local/espeak-ng", "en-us")])
def test_omitted_voice_uses_model_default(server, model, default_voice):
    text = "Nobody chose a voice for this sentence."
    response = server.speech({"model": model, "input": text})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "audio/pcm"
    assert pcm_peak(response.content) > 1000
    assert_completed_row(server, response.headers["X-Generation-Id"], model=model, voice=default_voice,
                         fmt="pcm", text=text)


# --- raw HTTP, so an early 413 can be read whatever the client library does ---------------

def raw_post(server, body: bytes, *, chunked: bool) -> tuple[int, str, bytes]:
    host, port = server.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = (f"POST /api/v1/audio/speech HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {server.key}\r\nContent-Type: application/json\r\nConnection: close\r\n")
    if chunked:
        head += "Transfer-Encoding: chunked\r\n\r\n"
        payload = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                           for i in range(0, len(body), 65536)) + b"0\r\n\r\n"
    else:
        head += f"Content-Length: {len(body)}\r\n\r\n"
        payload = body

    def send():
        try:
            sock.sendall(head.encode() + payload)
        except OSError:
            pass  # the server may answer and close before reading everything

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    received = b""
    try:
        while True:
            part = sock.recv(65536)
            if not part:
                break
            received += part
            if b"\r\n\r\n" in received:
                headers, _, rest = received.partition(b"\r\n\r\n")
                match = re.search(rb"content-length: *(\d+)", headers, re.I)
                if match and len(rest) >= int(match.group(1)):
                    break
    except ConnectionResetError:
        pass
    finally:
        sock.close()
        sender.join(timeout=10)
    assert received, "no response at all"
    headers, _, rest = received.partition(b"\r\n\r\n")
    status = int(headers.split(b" ", 2)[1])
    return status, headers.decode("latin-1"), rest


def check_raw_error(status: int, payload: bytes, expected: int) -> None:
    assert status == expected, (status, payload[:300])
    error = json.loads(payload)["error"]
    assert error["code"] == expected, error
    assert isinstance(error["message"], str) and error["message"], error
