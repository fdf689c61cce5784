"""Many requests at once, and one very long request in bounded memory."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from support import (PCM_RATE, assert_completed_row, pcm_peak, pcm_seconds, probe, probe_bytes, rss_bytes,
                     sentences, text_of_length, wait_until_idle)

VOICES = {
    "local/flite": ["slt", "rms", "awb", "kal16", "kal", "alloy", "echo", "shimmer"],
    "local/espeak-ng": ["en-us", "en-us+f3", "de", "fr", "nova", "onyx", "en", "es"],
}
GERMAN = "Der alte Leuchtturm steht seit hundert Jahren am Hafen. Heute scheint die Sonne."
FRENCH = "Le petit train traverse la vallée chaque matin. Les enfants regardent par la fenêtre."
SPANISH = "El panadero abre la tienda muy temprano. Todos los vecinos compran pan fresco."
CONTENT_TYPES = {"mp3": "audio/mpeg", "pcm": "audio/pcm", "wav": "audio/wav"}


def test_32_concurrent_requests_across_models_and_formats(server, workdir):
    jobs = []
    for i in range(32):
        model = "local/flite" if i % 2 == 0 else "local/espeak-ng"
        voice = VOICES[model][(i // 2) % len(VOICES[model])]
        fmt = ["mp3", "pcm", "wav"][i % 3]
        text = {"de": GERMAN, "fr": FRENCH, "es": SPANISH}.get(voice, sentences(2, start=i))
        jobs.append((i, model, voice, fmt, text))

    barrier = threading.Barrier(32)

    def run(job):
        i, model, voice, fmt, text = job
        barrier.wait(timeout=60)
        started = time.monotonic()
        response = server.speech({"model": model, "input": text, "voice": voice, "response_format": fmt},
                                 timeout=300)
        return job, response, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(run, jobs))

    failures = [(job, r.status_code, r.text[:200]) for job, r, _ in results if r.status_code != 200]
    assert not failures, failures
    ids = set()
    for (i, model, voice, fmt, text), response, _ in results:
        assert response.headers["Content-Type"] == CONTENT_TYPES[fmt], (i, response.headers)
        data = response.content
        if fmt == "pcm":
            seconds = pcm_seconds(data)
            assert pcm_peak(data) > 1000, (i, model, voice)
        else:
            info = probe_bytes(data, "." + fmt, workdir)
            assert info.sample_rate == PCM_RATE and info.channels == 1, (i, info)
            assert info.codec == ("mp3" if fmt == "mp3" else "pcm_s16le"), (i, info)
            seconds = info.decoded_seconds
        assert 2 <= seconds <= 20, (i, model, voice, fmt, seconds)
        generation_id = response.headers["X-Generation-Id"]
        ids.add(generation_id)
        assert_completed_row(server, generation_id, model=model, voice=voice, fmt=fmt, text=text)
    assert len(ids) == 32
    server.assert_alive()


def test_100k_characters_stream_in_bounded_memory(server, workdir):
    text = text_of_length(100_000)
    path = workdir / "long.mp3"
    wait_until_idle(server.pid)
    baseline = rss_bytes(server.pid)
    peak = [baseline]
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                peak[0] = max(peak[0], rss_bytes(server.pid))
            except (OSError, AssertionError):
                return
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    try:
        response = server.speech({"model": "local/flite", "input": text, "voice": "slt", "response_format": "mp3"},
                                 stream=True, timeout=600)
        assert response.status_code == 200, response.text
        first_byte = time.monotonic() - started
        with open(path, "wb") as out:
            for chunk in response.iter_content(1 << 16):
                out.write(chunk)
        total = time.monotonic() - started
    finally:
        done.set()
        sampler.join(timeout=5)

    growth = peak[0] - baseline
    print(f"\n100k chars: first byte {first_byte:.2f} s, total {total:.1f} s, "
          f"RSS {baseline / 2**20:.0f} MiB -> peak {peak[0] / 2**20:.0f} MiB (+{growth / 2**20:.1f} MiB)")
    assert growth < 100 * 2**20, f"server RSS grew by {growth / 2**20:.0f} MiB while streaming 100k characters"
    assert first_byte < 10, f"first byte took {first_byte:.1f} s"

    info = probe(path)
    assert (info.codec, info.sample_rate, info.channels) == ("mp3", PCM_RATE, 1), info
    # Flite speaks ~15 characters a second: 100k characters last well over half an hour.
    assert 2000 < info.duration < 20000, info
    assert abs(info.decoded_seconds - info.duration) < 5, info
    assert_completed_row(server, response.headers["X-Generation-Id"], model="local/flite", voice="slt",
                         fmt="mp3", text=text)
