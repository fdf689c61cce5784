"""Awkward input text: nothing speakable, emoji, control characters, odd Unicode, speed."""

from __future__ import annotations

import pytest

from support import assert_completed_row, assert_error, pcm_peak, pcm_seconds


@pytest.mark.parametrize("text", [
    pytest.param("!!! ???", id="punctuation"),
    pytest.param("😀🎉🚀", id="emoji-only"),
    pytest.param("\x00\x01\x02\x03", id="controls-only"),
    pytest.param("... --- ,,, ;;;", id="more-punctuation"),
])
def test_nothing_speakable_is_400_for_flite(server, text):
    response = server.speech({"model": "local/flite", "input": text, "voice": "slt"})
    assert_error(response, 400, param="input")
    server.assert_alive()


@pytest.mark.parametrize("model", ["local/flite", "local/espeak-ng"])
def test_emoji_mixed_into_text_still_speaks(server, model):
    text = "Hello 😀 world, this is a small test 🎉 of mixed text with a rocket 🚀 in it."
    response = server.speech({"model": model, "input": text, "response_format": "pcm"})
    assert response.status_code == 200, response.text
    seconds = pcm_seconds(response.content)
    assert 1.5 <= seconds <= 15, seconds
    assert pcm_peak(response.content) > 1000
    # Characters are counted as code points (Python's len), emoji included.
    row = assert_completed_row(server, response.headers["X-Generation-Id"], model=model,
                               voice="slt" if model == "local/flite" else "en-us", fmt="pcm", text=text)
    assert row["characters"] == len(text)


@pytest.mark.parametrize("model", ["local/flite", "local/espeak-ng"])
@pytest.mark.parametrize("text", [
    pytest.param("Hello\x00world, the null byte sits in the middle.", id="nul"),
    pytest.param("\x07Bell\x08 backspace \x1b[31mred text\x1b[0m and delete\x7f here.", id="escapes"),
    pytest.param("Line one.\r\nLine two.\x0bVertical tab.\x0cForm feed.\u2028Line separator.", id="breaks"),
    pytest.param("Zero\u200bwidth\u200d joiners\ufeff and a right\u202eto\u202cleft override.", id="invisible"),
    pytest.param("Combining accents: cafe\u0301, nai\u0308ve, and \U0001d400\U0001d401 math letters.", id="combining"),
    pytest.param("Unpaired surrogate here: \ud800 and then more words.", id="lone-surrogate"),
])
def test_control_characters_do_not_break_the_server(server, model, text):
    import json

    # json.dumps escapes everything, a lone surrogate included, as \uXXXX.
    response = server.speech(json.dumps({"model": model, "input": text, "response_format": "pcm"}))
    server.assert_alive()
    if "\ud800" in text:
        # Not valid Unicode: rejecting it is fine, crashing or a 5xx is not.
        assert response.status_code in (200, 400), response.text
        if response.status_code == 400:
            assert_error(response, 400)
            return
    assert response.status_code == 200, response.text
    assert pcm_seconds(response.content) > 0.5
    assert pcm_peak(response.content) > 1000


def test_invalid_utf8_body_is_rejected_cleanly(server):
    body = b'{"model": "local/flite", "input": "caf\xe9 \xff\xfe words"}'
    response = server.speech(body)
    server.assert_alive()
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert_error(response, 400)
    else:
        assert pcm_peak(response.content) > 1000


@pytest.mark.parametrize("model, voices", [
    ("local/flite", ["slt", "rms", "awb", "kal16", "kal", "alloy", "onyx", "cedar"]),
    ("local/espeak-ng", ["en-us", "de", "fr", "en-us+f3", "nova", "verse"]),
])
def test_each_voice_speaks(server, model, voices):
    text = "Seven silver bells rang out across the valley."
    lengths = {}
    for voice in voices:
        response = server.speech({"model": model, "input": text, "voice": voice})
        assert response.status_code == 200, (voice, response.text)
        assert pcm_peak(response.content) > 1000, voice
        lengths[voice] = pcm_seconds(response.content)
        assert 1.0 <= lengths[voice] <= 10, (voice, lengths[voice])
    # Different native voices are different voices: not every one gives the same audio length.
    assert len({round(v, 3) for v in lengths.values()}) > 1, lengths


@pytest.mark.parametrize("model", ["local/flite", "local/espeak-ng"])
def test_speed_is_honoured(server, model):
    text = "The patient teacher described the winding mountain road with remarkable care."
    durations = {}
    for speed in (0.5, 1.0, 2.0):
        response = server.speech({"model": model, "input": text, "speed": speed})
        assert response.status_code == 200, response.text
        durations[speed] = pcm_seconds(response.content)
    assert durations[2.0] < 0.75 * durations[1.0], durations
    assert durations[0.5] > 1.4 * durations[1.0], durations
