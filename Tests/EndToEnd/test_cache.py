"""The speech cache (issue #18): OpenRouter's `X-OpenRouter-Cache` opt-in, hits that replay a
miss's exact bytes as generations of their own, one synthesis for concurrent identical requests,
no entry from a miss that did not complete (client gone, kill -9), per-key scope, eviction under
the size limit, and hits billed at the cache price and counted against limits."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import sqlite3
import struct
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from fake_openai import serve_in_thread
from support import binary_path, free_port, probe
from test_upstream_and_accounts import UPSTREAM_KEY, Instance, create_key

MODEL = "openai/gpt-4o-mini-tts-2025-12-15"
BODY = {"model": MODEL, "input": "Your call is important to us.", "voice": "nova", "response_format": "mp3"}
CACHE = {"X-OpenRouter-Cache": "true"}


@pytest.fixture(scope="module")
def mp3(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("audio") / "fixed.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                    "-ac", "1", "-ar", "24000", "-c:a", "libmp3lame", "-b:a", "48k", str(path)], check=True)
    return path.read_bytes()


def upstream(mp3: bytes, **holding):
    return serve_in_thread(free_port(), UPSTREAM_KEY, mp3, b"\x01\x00" * 48000, **holding)


def gateway(tmp_path: Path, fake, config: dict | None = None) -> Instance:
    port = fake.server_address[1]
    return Instance(tmp_path, config=config,
                    env={"OPENAI_API_KEY": UPSTREAM_KEY, "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1"})


def speak(instance: Instance, key: str, body: dict = BODY, headers: dict = CACHE, **kwargs) -> requests.Response:
    return requests.post(instance.base + "/api/v1/audio/speech", json=body,
                         headers={"Authorization": f"Bearer {key}", **headers}, timeout=120, **kwargs)


def entries(data_dir: Path) -> list[Path]:
    directory = data_dir / "cache"
    return sorted(directory.glob("*.audio")) if directory.exists() else []


def cache_files(data_dir: Path) -> list[Path]:
    """Every file in the cache directory but the counters' statistics.json."""
    return [path for path in (data_dir / "cache").iterdir() if path.name != "statistics.json"]


def rows(data_dir: Path) -> list[tuple]:
    connection = sqlite3.connect(data_dir / "speechrouter.sqlite")
    try:
        return connection.execute(
            "SELECT id, status, provider, cost_nanos, response_cache_source_id FROM generations ORDER BY started_at, id"
        ).fetchall()
    finally:
        connection.close()


def test_a_hit_replays_the_miss_bytes_as_a_generation_of_its_own(mp3, tmp_path):
    fake = upstream(mp3)
    key = create_key(tmp_path)
    instance = gateway(tmp_path, fake)
    try:
        uncached = speak(instance, key, headers={})
        assert uncached.status_code == 200 and "X-OpenRouter-Cache-Status" not in uncached.headers
        miss = speak(instance, key, headers={**CACHE, "X-OpenRouter-Cache-TTL": "600"})
        assert miss.status_code == 200, miss.text
        assert miss.headers["X-OpenRouter-Cache-Status"] == "MISS"
        assert miss.headers["X-OpenRouter-Cache-TTL"] == "600"
        hit = speak(instance, key)
        assert hit.status_code == 200, hit.text
        assert hit.headers["X-OpenRouter-Cache-Status"] == "HIT"
        assert hit.headers["Content-Type"] == "audio/mpeg"
        assert hit.content == miss.content == mp3
        (tmp_path / "hit.mp3").write_bytes(hit.content)
        assert probe(tmp_path / "hit.mp3").codec == "mp3"
        assert len(fake.received) == 2  # the hit never reached the upstream
        miss_id, hit_id = miss.headers["X-Generation-Id"], hit.headers["X-Generation-Id"]
        assert hit_id != miss_id
        generation = requests.get(instance.base + f"/api/v1/generation?id={hit_id}",
                                  headers={"Authorization": f"Bearer {key}"}, timeout=10).json()["data"]
        assert generation["response_cache_source_id"] == miss_id
        assert generation["status"] == "completed"
        source = requests.get(instance.base + f"/api/v1/generation?id={miss_id}",
                              headers={"Authorization": f"Bearer {key}"}, timeout=10).json()["data"]
        assert source["response_cache_source_id"] is None
        # Server-sent events from the same entry: the same audio, framed for this response.
        events = speak(instance, key, body={**BODY, "stream_format": "sse"})
        assert events.headers["X-OpenRouter-Cache-Status"] == "HIT"
        audio = b"".join(base64.b64decode(json.loads(line[6:])["audio"]) for line in events.text.splitlines()
                         if line.startswith("data: ") and '"speech.audio.delta"' in line)
        assert audio == mp3
        done = [json.loads(line[6:]) for line in events.text.splitlines() if '"speech.audio.done"' in line]
        assert [event["usage"]["input_tokens"] for event in done] == [len(BODY["input"])], events.text[-300:]
        # Bad opt-in headers are refused and change nothing.
        for headers in ({"X-OpenRouter-Cache-TTL": "0", **CACHE}, {"X-OpenRouter-Cache-TTL": "86401", **CACHE},
                        {"X-OpenRouter-Cache": "maybe"}):
            refused = speak(instance, key, headers=headers)
            assert refused.status_code == 400, refused.text
        assert len(rows(tmp_path)) == 4
    finally:
        instance.stop()
        fake.shutdown()


def test_twenty_concurrent_identical_requests_synthesize_once(mp3, tmp_path):
    release = threading.Event()
    fake = upstream(mp3, hold_at=0.5, release=release)
    key = create_key(tmp_path)
    instance = gateway(tmp_path, fake)
    try:
        with ThreadPoolExecutor(20) as pool:
            # Each returns once its response head arrived: all 20 are in before the upstream finishes.
            responses = list(pool.map(lambda _: speak(instance, key, stream=True), range(20)))
            assert [r.status_code for r in responses] == [200] * 20
            release.set()
            bodies = list(pool.map(lambda r: r.content, responses))
        assert len(fake.received) == 1
        statuses = sorted(r.headers["X-OpenRouter-Cache-Status"] for r in responses)
        assert statuses == ["HIT"] * 19 + ["MISS"]
        assert all(body == mp3 for body in bodies)
        (tmp_path / "one.mp3").write_bytes(bodies[0])
        assert probe(tmp_path / "one.mp3").codec == "mp3"
        recorded = rows(tmp_path)
        source = [r[0] for r in recorded if r[4] is None]
        assert len(source) == 1 and all(r[4] == source[0] for r in recorded if r[0] != source[0])
        assert all(r[1] == "completed" for r in recorded) and len(recorded) == 20
        assert len(entries(tmp_path)) == 1
        # The cache's figures in /metrics: 1 miss, 19 hits that all joined the running synthesis.
        scraped = requests.get(instance.base + "/metrics", timeout=30).text
        figures = {line.split()[0]: float(line.split()[1]) for line in scraped.splitlines()
                   if line.startswith("speechrouter_cache_")}
        assert (figures["speechrouter_cache_misses"], figures["speechrouter_cache_hits"],
                figures["speechrouter_cache_coalesced"], figures["speechrouter_cache_entries"]) == (1, 19, 19, 1)
        assert figures["speechrouter_cache_bytes"] == len(mp3)
    finally:
        release.set()
        instance.stop()
        fake.shutdown()


def test_a_client_gone_mid_miss_leaves_no_entry_and_the_next_request_is_a_miss(mp3, tmp_path):
    release = threading.Event()
    fake = upstream(mp3, hold_at=0.5, release=release)
    key = create_key(tmp_path)
    instance = gateway(tmp_path, fake)
    try:
        # The client reads the head and the first audio, then resets the connection mid-stream.
        sock = socket.create_connection(("127.0.0.1", instance.port), timeout=30)
        payload = json.dumps(BODY).encode()
        sock.sendall((f"POST /api/v1/audio/speech HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                      f"Content-Type: application/json\r\nX-OpenRouter-Cache: true\r\n"
                      f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload)
        received = b""
        while b"\r\n\r\n" not in received or len(received) < 2048:
            received += sock.recv(65536)
        assert b"X-OpenRouter-Cache-Status: MISS" in received.split(b"\r\n\r\n")[0], received[:500]
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        release.set()
        deadline = time.monotonic() + 30
        while rows(tmp_path)[0][1] == "running":
            assert time.monotonic() < deadline, rows(tmp_path)
            time.sleep(0.05)
        assert rows(tmp_path)[0][1] == "cancelled"
        assert entries(tmp_path) == [] and cache_files(tmp_path) == []
        again = speak(instance, key)
        assert again.headers["X-OpenRouter-Cache-Status"] == "MISS" and again.content == mp3
        assert speak(instance, key).headers["X-OpenRouter-Cache-Status"] == "HIT"
    finally:
        release.set()
        instance.stop()
        fake.shutdown()


def test_kill_9_mid_miss_leaves_no_entry_that_is_ever_served(mp3, tmp_path):
    release = threading.Event()
    fake = upstream(mp3, hold_at=0.5, release=release)
    key = create_key(tmp_path)
    instance = gateway(tmp_path, fake)
    try:
        held = speak(instance, key, stream=True)
        assert held.headers["X-OpenRouter-Cache-Status"] == "MISS"
        next(held.iter_content(1024))
        os.kill(instance.process.pid, signal.SIGKILL)
        instance.process.wait()
        held.close()
        assert entries(tmp_path) == []
        assert [p.suffix for p in cache_files(tmp_path)] == [".tmp"]  # the interrupted write
        release.set()
        instance.start()
        assert cache_files(tmp_path) == []  # removed at start
        again = speak(instance, key)
        assert again.headers["X-OpenRouter-Cache-Status"] == "MISS" and again.content == mp3
    finally:
        release.set()
        instance.stop()
        fake.shutdown()


@pytest.mark.parametrize("shared", [False, True])
def test_keys_share_entries_only_when_configured(mp3, tmp_path, shared):
    fake = upstream(mp3)
    first, second = create_key(tmp_path), create_key(tmp_path)
    instance = gateway(tmp_path, fake, config={"cache": {"shared": True}} if shared else None)
    try:
        assert speak(instance, first).headers["X-OpenRouter-Cache-Status"] == "MISS"
        other = speak(instance, second)
        assert other.headers["X-OpenRouter-Cache-Status"] == ("HIT" if shared else "MISS")
        assert other.content == mp3
        assert len(fake.received) == (1 if shared else 2)
        assert speak(instance, first).headers["X-OpenRouter-Cache-Status"] == "HIT"
    finally:
        instance.stop()
        fake.shutdown()


def test_a_configured_model_is_cached_without_the_header_and_the_header_can_refuse(mp3, tmp_path):
    fake = upstream(mp3)
    key = create_key(tmp_path)
    instance = gateway(tmp_path, fake, config={"cache": {"models": {MODEL: {"ttl_seconds": 60}}}})
    try:
        miss = speak(instance, key, headers={})
        assert miss.headers["X-OpenRouter-Cache-Status"] == "MISS" and miss.headers["X-OpenRouter-Cache-TTL"] == "60"
        assert speak(instance, key, headers={}).headers["X-OpenRouter-Cache-Status"] == "HIT"
        off = speak(instance, key, headers={"X-OpenRouter-Cache": "false"})
        assert "X-OpenRouter-Cache-Status" not in off.headers and len(fake.received) == 2
    finally:
        instance.stop()
        fake.shutdown()


def test_eviction_keeps_the_directory_under_its_limit_over_1000_requests(tmp_path):
    limit = 200_000
    key = create_key(tmp_path)
    instance = Instance(tmp_path, config={"cache": {"max_bytes": limit}, "admission": {"measured": False}})
    try:
        def directory_bytes() -> int:
            total = 0
            for path in (tmp_path / "cache").iterdir():
                if path.suffix == ".audio":
                    try:
                        total += path.stat().st_size
                    except FileNotFoundError:
                        pass  # evicted between the listing and the look: it no longer counts
            return total

        for index in range(1000):
            response = requests.post(
                instance.base + "/api/v1/audio/speech",
                json={"model": "local/flite", "input": f"Item {index}.", "voice": "slt", "response_format": "mp3"},
                headers={"Authorization": f"Bearer {key}", **CACHE}, timeout=60)
            assert response.status_code == 200, response.text
            assert response.headers["X-OpenRouter-Cache-Status"] == "MISS"
            if index % 100 == 99:
                assert directory_bytes() <= limit
        assert 0 < directory_bytes() <= limit
        stats = subprocess.run([str(binary_path()), "cache", "stats", "--data-dir", str(tmp_path),
                                "--config", str(next(tmp_path.glob("config-*.json")))],
                               capture_output=True, text=True, timeout=60)
        assert stats.returncode == 0, stats.stderr
        figures = dict(line.split(":", 1) for line in stats.stdout.splitlines())
        assert int(figures["bytes"]) == directory_bytes() and int(figures["limit_bytes"]) == limit
        assert int(figures["entries"]) == len(entries(tmp_path)) < 1000
        # What the server counted: 1,000 misses, no hits, and an eviction for each entry gone.
        assert (int(figures["misses"]), int(figures["hits"])) == (1000, 0), stats.stdout
        assert int(figures["evictions"]) == 1000 - int(figures["entries"]), stats.stdout
        cleared = subprocess.run([str(binary_path()), "cache", "clear", "--data-dir", str(tmp_path)],
                                 capture_output=True, text=True, timeout=60)
        assert cleared.returncode == 0 and entries(tmp_path) == []
    finally:
        instance.stop()


def test_a_hit_is_billed_at_the_cache_price_and_counts_against_limits(mp3, tmp_path):
    fake = upstream(mp3)
    characters = len(BODY["input"])
    config = {"models": {MODEL: {"price_per_character": "0.001"}},
              "cache": {"models": {MODEL: {"price_per_character": "0.0001"}}}}
    # Enough for the miss and one hit, not for a second hit.
    limit = (characters * 1_000_000 + characters * 100_000 + characters * 50_000) / 1e9
    key = create_key(tmp_path, "--limit", f"{limit:.9f}")
    instance = gateway(tmp_path, fake, config=config)
    try:
        assert speak(instance, key).headers["X-OpenRouter-Cache-Status"] == "MISS"
        hit = speak(instance, key)
        assert hit.headers["X-OpenRouter-Cache-Status"] == "HIT" and hit.content == mp3
        refused = speak(instance, key)
        assert refused.status_code == 402, refused.text
        recorded = rows(tmp_path)
        assert [(r[1], r[2], r[3]) for r in recorded] == [
            ("completed", "OpenAI", characters * 1_000_000), ("completed", "cache", characters * 100_000)]
        assert recorded[1][4] == recorded[0][0]
    finally:
        instance.stop()
        fake.shutdown()


def test_a_hit_counts_against_the_rate_limit(mp3, tmp_path):
    fake = upstream(mp3)
    key = create_key(tmp_path)
    instance = gateway(tmp_path, fake, config={"rate_limit": {"requests": 2, "interval_seconds": 3600}})
    try:
        assert speak(instance, key).headers["X-OpenRouter-Cache-Status"] == "MISS"
        assert speak(instance, key).headers["X-OpenRouter-Cache-Status"] == "HIT"
        assert speak(instance, key).status_code == 429
    finally:
        instance.stop()
        fake.shutdown()
