"""Many streams through one upstream at once: each holds its own upstream connection for as long
as it speaks, so none waits for another's end (AsyncHTTPClient's default pool keeps 8
connections per host, and the 9th stream would wait)."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from fake_openai import serve_in_thread
from support import free_port, start_server, stop_server
from test_upstream_rate import tone

UPSTREAM_KEY = "sk-fake-upstream-key-0003"
MODEL = "openai/gpt-4o-mini-tts-2025-12-15"
STREAMS = 12


def test_twelve_streams_to_one_upstream_all_speak_at_once(tmp_path):
    release = threading.Event()
    pcm = tone(24000, 1.0)
    # Each upstream stream stops halfway until every one of them has arrived.
    upstream = serve_in_thread(free_port(), UPSTREAM_KEY, b"unused mp3", pcm, hold_at=0.5, release=release)
    server = start_server(tmp_path, env={**os.environ, "OPENAI_API_KEY": UPSTREAM_KEY,
                                         "OPENAI_BASE_URL": f"http://127.0.0.1:{upstream.server_address[1]}/v1"})
    try:
        def speak(index: int):
            return server.speech({"model": MODEL, "input": f"Stream number {index}.", "voice": "alloy",
                                  "response_format": "pcm"}, timeout=60)

        with ThreadPoolExecutor(STREAMS) as pool:
            futures = [pool.submit(speak, index) for index in range(STREAMS)]
            deadline = time.monotonic() + 20
            while len(upstream.received) < STREAMS and time.monotonic() < deadline:
                time.sleep(0.05)
            arrived = len(upstream.received)
            release.set()
            responses = [future.result() for future in futures]
        assert arrived == STREAMS, f"only {arrived} of {STREAMS} streams reached the upstream while the others played"
        for response in responses:
            assert response.status_code == 200, response.text[:300]
            assert response.content == pcm
    finally:
        release.set()
        stop_server(server)
        upstream.shutdown()
