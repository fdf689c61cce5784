"""Audio is streamed as it is made, and a client that goes away stops the work."""

from __future__ import annotations

import time

import pytest

from support import (assert_completed_row, cpu_seconds, pcm_peak, pcm_seconds, sentences, wait_for_generation,
                     wait_until_idle)


@pytest.mark.parametrize("model", ["local/flite", "local/espeak-ng"])
def test_first_bytes_arrive_long_before_the_last(server, model):
    text = sentences(20)
    wait_until_idle(server.pid)
    started = time.monotonic()
    response = server.speech({"model": model, "input": text, "response_format": "pcm"}, stream=True)
    assert response.status_code == 200, response.text
    assert response.headers.get("Transfer-Encoding", "").lower() == "chunked", response.headers
    arrivals, audio = [], bytearray()
    for chunk in response.iter_content(4096):
        arrivals.append(time.monotonic() - started)
        audio += chunk
    response.close()

    first, total = arrivals[0], arrivals[-1]
    print(f"\n{model}: first byte {first:.3f} s, last byte {total:.3f} s, {len(arrivals)} chunks")
    assert first < 0.4 * total, f"first byte after {first:.3f} s of {total:.3f} s ({len(arrivals)} chunks)"
    seconds = pcm_seconds(bytes(audio))
    # 20 sentences of 7-10 words: roughly 40-120 s of speech.
    assert 30 <= seconds <= 180, seconds
    assert pcm_peak(bytes(audio)) > 1000
    voice = "slt" if model == "local/flite" else "en-us"
    assert_completed_row(server, response.headers["X-Generation-Id"], model=model, voice=voice, fmt="pcm",
                         text=text)


@pytest.mark.parametrize("model", ["local/flite", "local/espeak-ng"])
def test_disconnect_stops_synthesis_and_records_cancelled(server, model):
    text = sentences(1000)  # ~55,000 characters: over an hour of speech, many seconds of work
    wait_until_idle(server.pid)
    response = server.speech({"model": model, "input": text, "response_format": "mp3"}, stream=True)
    assert response.status_code == 200, response.text
    generation_id = response.headers["X-Generation-Id"]
    received = 0
    for chunk in response.iter_content(4096):
        received += len(chunk)
        if received >= 3 * 4096:
            break
    response.close()  # the body is unread, so urllib3 closes the socket instead of reusing it
    closed = time.monotonic()

    time.sleep(1.0)  # settle: pieces already in flight may finish
    before = cpu_seconds(server.pid)
    time.sleep(2.0)
    used = cpu_seconds(server.pid) - before
    print(f"\n{model}: {used:.3f} CPU s used between 1 s and 3 s after the disconnect")
    assert used < 0.1, f"server used {used:.2f} CPU s in the 2 s after the settle time: still synthesizing?"

    row = wait_for_generation(server, generation_id, "cancelled", timeout=max(1.0, 5 - (time.monotonic() - closed)))
    print(f"{model}: cancelled after {row['spoken_characters']} of {row['characters']} characters")
    assert row["characters"] == len(text), row
    assert row["spoken_characters"] is not None and row["spoken_characters"] < len(text) // 2, row
    assert row["finished_at"] is not None, row
    server.assert_alive()


def test_server_keeps_serving_after_disconnects(server):
    text = "After the interruptions, this short request must still be answered."
    response = server.speech({"model": "local/flite", "input": text, "response_format": "pcm"})
    assert response.status_code == 200, response.text
    assert pcm_peak(response.content) > 1000
    assert_completed_row(server, response.headers["X-Generation-Id"], model="local/flite", voice="slt",
                         fmt="pcm", text=text)
