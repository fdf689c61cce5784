"""Hostile callers get a clear error and cost nothing (issue #11): numbers from outside that are
out of range, upstream secrets, redirects, partial upstream streams, oversized instructions."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import struct
import subprocess
import threading
import time

import pytest
import requests

from fake_openai import serve_in_thread
from support import assert_error, binary_path, free_port, text_of_length
from test_lifetimes import raw_request
from test_upstream_and_accounts import Instance, create_key


def run_cli(data_dir, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary_path()), *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=60, env=os.environ)


def key_count(data_dir) -> int:
    connection = sqlite3.connect(data_dir / "speechrouter.sqlite")
    try:
        return connection.execute("SELECT COUNT(*) FROM api_keys").fetchone()[0]
    finally:
        connection.close()


@pytest.fixture
def managed(tmp_path):
    """A server and a management key for it."""
    management = create_key(tmp_path, "--management")
    instance = Instance(tmp_path)
    yield instance, {"Authorization": f"Bearer {management}"}
    instance.stop()


@pytest.mark.parametrize("limit", [1e10, 1e300, -1, 1_000_000_000.5])
def test_a_key_limit_out_of_range_is_a_400_naming_the_field(managed, limit):
    instance, headers = managed
    response = requests.post(instance.base + "/api/v1/keys", json={"name": "big", "limit": limit},
                             headers=headers, timeout=30)
    assert_error(response, 400, contains="limit", param="limit")
    assert instance.process.poll() is None, "the server is alive"
    keys = requests.get(instance.base + "/api/v1/keys", headers=headers, timeout=30).json()["data"]
    assert [key["name"] for key in keys] == ["default"], "nothing was created"
    created = requests.post(instance.base + "/api/v1/keys", json={"name": "fine", "limit": 1e9},
                            headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["limit"] == 1e9


@pytest.mark.parametrize("args, named", [
    (["keys", "create", "--limit", "1e10"], "--limit"),
    (["keys", "create", "--limit", "nan"], "--limit"),
    (["keys", "create", "--limit", "inf"], "--limit"),
    (["keys", "create", "--rate-limit", "5", "--rate-interval", "1e300"], "--rate-interval"),
    (["keys", "create", "--rate-limit", "5", "--rate-interval", "0"], "--rate-interval"),
    (["keys", "create", "--rate-limit", "5", "--rate-interval=-1"], "--rate-interval"),
    (["keys", "create", "--rate-limit", "5", "--rate-interval", "nan"], "--rate-interval"),
    (["keys", "create", "--rate-limit", "0"], "--rate-limit"),
    (["keys", "create", "--rate-limit=-4"], "--rate-limit"),
    (["keys", "create", "--rate-limit", "99999999999"], "--rate-limit"),
    (["credits", "1e10"], "total"),
    (["credits", "nan"], "total"),
])
def test_cli_numbers_out_of_range_are_usage_errors_that_write_nothing(tmp_path, args, named):
    create_key(tmp_path)  # the database exists, with one key
    result = run_cli(tmp_path, *args)
    assert result.returncode != 0, result.stdout
    assert named in result.stderr, result.stderr
    assert "Fatal error" not in result.stderr and "Double value" not in result.stderr, result.stderr
    assert not result.stdout.strip(), "no key printed"
    assert key_count(tmp_path) == 1
    credits = sqlite3.connect(tmp_path / "speechrouter.sqlite").execute(
        "SELECT total_credits_nanos FROM account").fetchone()
    assert credits == (None,)


def test_a_rate_limit_stored_out_of_range_neither_kills_the_server_nor_fails_the_key(tmp_path):
    # A key written before intervals were checked (`--rate-interval 1e300` or `0` was accepted).
    huge = create_key(tmp_path, "--rate-limit", "5", "--rate-interval", "60")
    zero = create_key(tmp_path, "--rate-limit", "5", "--rate-interval", "60")
    connection = sqlite3.connect(tmp_path / "speechrouter.sqlite")
    hashes = [row[0] for row in connection.execute("SELECT hash FROM api_keys ORDER BY created_at")]
    connection.execute("UPDATE api_keys SET rate_limit_interval = 1e300 WHERE hash = ?", (hashes[0],))
    connection.execute("UPDATE api_keys SET rate_limit_interval = 0 WHERE hash = ?", (hashes[1],))
    connection.commit()
    connection.close()
    instance = Instance(tmp_path)
    try:
        for key in (huge, zero):
            response = requests.get(instance.base + "/api/v1/key", headers={"Authorization": f"Bearer {key}"},
                                    timeout=30)
            assert response.status_code == 200, response.text
            assert response.headers["X-RateLimit-Limit"] == "5"
        assert instance.process.poll() is None
    finally:
        instance.stop()


UPSTREAM_KEY = "sk-fake-upstream-key-0002"
OPENAI_MODEL = "openai/gpt-4o-mini-tts-2025-12-15"
OPENAI_PRICE_NANOS = 600  # $0.0000006 a character


def generation(data_dir, generation_id: str, status: str | None = None) -> dict:
    """The generation's row, once it has left `running` (or reached `status`)."""
    deadline = time.monotonic() + 30
    while True:
        connection = sqlite3.connect(f"file:{data_dir / 'speechrouter.sqlite'}?mode=ro", uri=True, timeout=10)
        connection.row_factory = sqlite3.Row
        row = connection.execute("SELECT * FROM generations WHERE id = ?", (generation_id,)).fetchone()
        connection.close()
        if row is not None and row["status"] != "running" and status in (None, row["status"]):
            return dict(row)
        assert time.monotonic() < deadline, f"generation {generation_id}: {row and dict(row)}"
        time.sleep(0.1)


@pytest.fixture
def long_mp3(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("mp3") / "long.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=240",
                    "-ac", "1", "-ar", "24000", "-c:a", "libmp3lame", "-b:a", "48k", str(path)], check=True)
    return path.read_bytes()


def test_a_client_that_resets_mid_upstream_stream_is_charged_the_piece_the_upstream_billed(tmp_path, long_mp3):
    release = threading.Event()
    upstream = serve_in_thread(free_port(), UPSTREAM_KEY, long_mp3, b"", hold_at=0.9, release=release)
    key = create_key(tmp_path)
    instance = Instance(tmp_path, env={"OPENAI_API_KEY": UPSTREAM_KEY,
                                       "OPENAI_BASE_URL": f"http://127.0.0.1:{upstream.server_address[1]}/v1"})
    try:
        text = text_of_length(3905)
        sock = socket.create_connection(("127.0.0.1", instance.port))
        sock.sendall(raw_request(instance.port, key, {"model": OPENAI_MODEL, "input": text, "voice": "alloy",
                                                      "response_format": "mp3"}))
        received = b""
        while received.count(b"\r\n\r\n") == 0 or len(received.split(b"\r\n\r\n", 1)[1]) < 0.88 * len(long_mp3):
            chunk = sock.recv(65536)
            assert chunk, received[:300]
            received += chunk
        head = received.split(b"\r\n\r\n", 1)[0].decode()
        assert head.startswith("HTTP/1.1 200"), head
        generation_id = re.search(r"(?im)^x-generation-id: (\S+)", head).group(1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        release.set()  # the upstream goes on speaking; the gateway finds the client gone at its next write
        row = generation(tmp_path, generation_id)
        assert row["status"] == "cancelled", row
        assert row["spoken_characters"] == 3905, row
        assert row["cost_nanos"] == 3905 * OPENAI_PRICE_NANOS, row
        usage = sqlite3.connect(tmp_path / "speechrouter.sqlite").execute(
            "SELECT used_nanos, reserved_nanos FROM api_keys").fetchone()
        assert usage == (3905 * OPENAI_PRICE_NANOS, 0)
    finally:
        release.set()
        instance.stop()
        upstream.shutdown()


def test_instructions_are_capped_and_billed(tmp_path):
    upstream = serve_in_thread(free_port(), UPSTREAM_KEY, b"\xff\xf3" * 2000, b"")
    key = create_key(tmp_path)
    instance = Instance(tmp_path, env={"OPENAI_API_KEY": UPSTREAM_KEY,
                                       "OPENAI_BASE_URL": f"http://127.0.0.1:{upstream.server_address[1]}/v1"})
    try:
        def speak(**fields):
            body = {"model": OPENAI_MODEL, "input": "Hi.", "voice": "alloy", "response_format": "mp3", **fields}
            return requests.post(instance.base + "/api/v1/audio/speech", json=body, timeout=60,
                                 headers={"Authorization": f"Bearer {key}"})

        assert_error(speak(instructions="x" * 900_000), 400, contains="4096", param="instructions")
        assert_error(speak(instructions="é" * 4097), 400, contains="4096", param="instructions")
        assert_error(speak(provider={"options": {"openai": {"instructions": "x" * 5000}}}), 400,
                     param="provider.options.openai.instructions")
        assert upstream.received == [], "nothing over the cap went upstream"

        for fields, billed in [({"instructions": "é" * 4096}, 3 + 4096),
                               ({"provider": {"options": {"openai": {"instructions": "Calm."}}},
                                 "instructions": "Ignored, the option wins."}, 3 + 5)]:
            response = speak(**fields)
            assert response.status_code == 200, response.text
            row = generation(tmp_path, response.headers["X-Generation-Id"], "completed")
            assert (row["characters"], row["spoken_characters"]) == (billed, billed), row
            assert row["cost_nanos"] == billed * OPENAI_PRICE_NANOS, row
        assert len(upstream.received) == 2
    finally:
        instance.stop()
        upstream.shutdown()


# The most frequent Mandarin characters, most frequent first: eSpeak NG 1.51 prints
# `espeak: No envelope` about twice a character on them.
COMMON_MANDARIN = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种"
    "面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本"
    "去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比"
    "或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总"
    "次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做"
    "必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权"
    "收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信"
    "马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连"
    "断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存"
    "候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"
)


def test_espeak_ng_noise_on_mandarin_is_one_line_not_thousands(tmp_path):
    text = (COMMON_MANDARIN * 3)[:1200]
    env = {name: value for name, value in os.environ.items() if name != "SPEECHROUTER_BASE_URL"}
    result = subprocess.run(
        [str(binary_path()), "say", "-m", "local/espeak-ng", "-v", "cmn", "-o", str(tmp_path / "mandarin.wav"), text],
        capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stderr.split("\n") if line.strip()]
    mentions = [line for line in lines if "envelope" in line]
    assert len(mentions) == 1, f"{len(mentions)} lines mention the envelope: {mentions[:3]}"
    assert re.search(r"espeak: No envelope \(×\d{3,}\)", mentions[0]), mentions[0]
    assert len(lines) <= 5, lines[:10]
    assert (tmp_path / "mandarin.wav").stat().st_size > 24_000 * 2 * 60, "a minute and more of speech"
