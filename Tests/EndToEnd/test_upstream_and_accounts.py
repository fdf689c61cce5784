"""The gateway as a whole: the OpenAI SDK through SpeechRouter to an upstream, spending limits
under concurrency on SQLite and on two instances sharing PostgreSQL, and recovery from kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from openai import OpenAI

from fake_openai import serve_in_thread
from support import binary_path, free_port, probe

UPSTREAM_KEY = "sk-fake-upstream-key-0001"


class Instance:
    """One `speechrouter serve` process with its own port, config and environment."""

    def __init__(self, data_dir: Path, *, config: dict | None = None, env: dict | None = None):
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = [str(binary_path()), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--data-dir", str(data_dir)]
        if config is not None:
            path = data_dir / f"config-{self.port}.json"
            path.write_text(json.dumps(config))
            args += ["--config", str(path)]
        self.env = {**os.environ, **(env or {})}
        self.log = open(data_dir / f"server-{self.port}.log", "wb")
        self.args = args
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=self.env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.data_dir / f"server-{self.port}.log").read_text()
            try:
                if requests.get(self.base + "/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise AssertionError("server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def create_key(data_dir: Path, *args: str, env: dict | None = None) -> str:
    result = subprocess.run([str(binary_path()), "keys", "create", "--data-dir", str(data_dir), *args],
                            capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


PRICED = {"models": {"local/flite": {"price_per_character": "0.001"}}}
# For billing under contention: every one of 200 concurrent requests must reach the reservation,
# so admission by measured speed (which would answer most of them 503 first) is off.
PRICED_ALL_ADMITTED = {**PRICED, "admission": {"measured": False}}


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    directory = tmp_path_factory.mktemp("upstream")
    mp3_path = directory / "fixed.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                    "-ac", "1", "-ar", "24000", "-c:a", "libmp3lame", "-b:a", "48k", str(mp3_path)], check=True)
    mp3 = mp3_path.read_bytes()
    server = serve_in_thread(free_port(), UPSTREAM_KEY, mp3, b"\x01\x00" * 48000)
    yield server, mp3
    server.shutdown()


def test_openai_sdk_through_speechrouter_gets_the_upstreams_exact_bytes(upstream, tmp_path):
    server, mp3 = upstream
    port = server.server_address[1]
    key = create_key(tmp_path)
    instance = Instance(tmp_path, env={"OPENAI_API_KEY": UPSTREAM_KEY, "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1"})
    try:
        models = requests.get(instance.base + "/api/v1/models?output_modalities=speech").json()["data"]
        assert "openai/gpt-4o-mini-tts-2025-12-15" in [m["id"] for m in models]
        client = OpenAI(base_url=instance.base + "/api/v1", api_key=key)
        response = client.audio.speech.create(
            model="openai/gpt-4o-mini-tts-2025-12-15", voice="nova", input="The quick brown fox.",
            response_format="mp3", extra_body={"provider": {"options": {"openai": {"instructions": "Calm."},
                                                                        "azure": {"style": "sad"}}}})
        assert response.content == mp3
        with client.audio.speech.with_streaming_response.create(
                model="openai/gpt-4o-mini-tts-2025-12-15", voice="alloy", input="Streaming now.",
                response_format="mp3") as streamed:
            path = tmp_path / "streamed.mp3"
            streamed.stream_to_file(path)
        assert path.read_bytes() == mp3
        assert probe(path).codec == "mp3"
        sent = server.received[-2]
        assert sent["headers"]["Authorization"] == f"Bearer {UPSTREAM_KEY}"
        assert sent["body"] == {"model": "gpt-4o-mini-tts-2025-12-15", "input": "The quick brown fox.",
                                "voice": "nova", "response_format": "mp3", "instructions": "Calm."}
        rows = sqlite3.connect(tmp_path / "speechrouter.sqlite").execute(
            "SELECT provider, status FROM generations ORDER BY started_at").fetchall()
        assert rows == [("OpenAI", "completed"), ("OpenAI", "completed")]
    finally:
        instance.stop()


def spend_concurrently(bases: list[str], key: str, count: int = 200) -> list[int]:
    body = {"model": "local/flite", "input": "Ten chars.", "voice": "slt", "response_format": "pcm"}

    def one(index: int) -> int:
        response = requests.post(bases[index % len(bases)] + "/api/v1/audio/speech", json=body,
                                 headers={"Authorization": f"Bearer {key}"}, timeout=300)
        if response.status_code == 200:
            assert len(response.content) > 0
        else:
            assert response.json()["error"]["code"] == response.status_code
        return response.status_code

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def assert_exactly_the_limit_was_spent(base: str, key: str, statuses: list[int]) -> None:
    assert statuses.count(200) == 50, statuses
    assert statuses.count(402) == 150, statuses
    # A generation's charge is recorded once its last bytes are in the client's socket, so the
    # client may read the end a moment before the charge lands: wait for the 50th, then demand
    # the exact figure (an overspend would pass 0.5 and fail here).
    deadline = time.monotonic() + 30
    while True:
        data = requests.get(base + "/api/v1/key", headers={"Authorization": f"Bearer {key}"}).json()["data"]
        if data["usage"] >= 0.5 - 1e-9 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert data["usage"] == pytest.approx(0.5, abs=1e-12)
    assert data["limit_remaining"] == pytest.approx(0, abs=1e-12)


def test_two_hundred_concurrent_requests_spend_exactly_the_limit_on_sqlite(tmp_path):
    # 10 characters at $0.001 = $0.01 a request; the key may spend $0.50: exactly 50 requests.
    key = create_key(tmp_path, "--limit", "0.5")
    instance = Instance(tmp_path, config=PRICED_ALL_ADMITTED)
    try:
        assert_exactly_the_limit_was_spent(instance.base, key, spend_concurrently([instance.base], key))
        rows = sqlite3.connect(tmp_path / "speechrouter.sqlite").execute(
            "SELECT status, COUNT(*), SUM(cost_nanos) FROM generations GROUP BY status").fetchall()
        assert rows == [("completed", 50, 500_000_000)]
    finally:
        instance.stop()


def test_two_instances_on_one_postgresql_act_as_one_gateway(tmp_path):
    url = os.environ.get("SPEECHROUTER_TEST_DATABASE_URL")
    assert url, "scripts/test starts PostgreSQL and sets SPEECHROUTER_TEST_DATABASE_URL"
    schema = f"e2e_{os.getpid()}_{int(time.time())}"
    subprocess.run(["psql", url, "-qc", f"CREATE SCHEMA {schema}"], check=True)
    env = {"SPEECHROUTER_DATABASE_URL": f"{url}?search_path={schema}"}
    key = create_key(tmp_path, "--limit", "0.5", env=env)
    first = Instance(tmp_path, config=PRICED_ALL_ADMITTED, env=env)
    second = Instance(tmp_path, config=PRICED_ALL_ADMITTED, env=env)
    try:
        statuses = spend_concurrently([first.base, second.base], key)
        assert_exactly_the_limit_was_spent(second.base, key, statuses)
    finally:
        first.stop()
        second.stop()


def test_kill_minus_nine_mid_stream_leaves_no_running_generation(tmp_path):
    key = create_key(tmp_path, "--limit", "1000")
    instance = Instance(tmp_path, config=PRICED)
    long_text = " ".join(f"Sentence number {i} keeps this stream going for a while." for i in range(400))
    response = requests.post(instance.base + "/api/v1/audio/speech", stream=True, timeout=60,
                             json={"model": "local/flite", "input": long_text, "response_format": "pcm"},
                             headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    generation = response.headers["X-Generation-Id"]
    next(response.iter_content(4096))
    database = tmp_path / "speechrouter.sqlite"
    assert sqlite3.connect(database).execute("SELECT status FROM generations WHERE id = ?",
                                             (generation,)).fetchone() == ("running",)
    instance.process.send_signal(signal.SIGKILL)
    instance.process.wait()
    response.close()

    instance.start()  # same port and data: the same instance, restarted
    try:
        connection = sqlite3.connect(database)
        assert connection.execute("SELECT COUNT(*) FROM generations WHERE status = 'running'").fetchone() == (0,)
        assert connection.execute("SELECT status, cost_nanos FROM generations WHERE id = ?",
                                  (generation,)).fetchone() == ("failed", 0)
        key_row = connection.execute("SELECT used_nanos, reserved_nanos FROM api_keys").fetchone()
        total = connection.execute("SELECT COALESCE(SUM(cost_nanos), 0) FROM generations").fetchone()[0]
        assert key_row == (total, 0), "usage agrees with the generation rows and nothing stays reserved"
        account = connection.execute("SELECT used_nanos, reserved_nanos FROM account").fetchone()
        assert account == (total, 0)
        # And the gateway still serves.
        ok = requests.post(instance.base + "/api/v1/audio/speech", timeout=60,
                           json={"model": "local/flite", "input": "Back again.", "response_format": "mp3"},
                           headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200
    finally:
        instance.stop()


def test_rate_limit_answers_429_with_retry_after(tmp_path):
    key = create_key(tmp_path, "--rate-limit", "3", "--rate-interval", "3600")
    instance = Instance(tmp_path)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        statuses = [requests.get(instance.base + "/api/v1/key", headers=headers).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = requests.get(instance.base + "/api/v1/key", headers=headers)
        assert limited.status_code == 429
        window_end = (int(time.time()) // 3600 + 1) * 3600
        assert abs(int(limited.headers["Retry-After"]) - (window_end - time.time())) <= 2
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert limited.json()["error"]["code"] == 429
    finally:
        instance.stop()
