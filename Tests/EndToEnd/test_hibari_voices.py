"""hibari's other voices in the voices folder: a file named as hibari's registry names it
(`bf_emma.int8.onnx` for emma) is served by local/hibari under the registry's name, from start or
after SIGHUP, and a British voice reads with the British lexicon. The real emma cannot be fetched here, so heart's own model
is copied under emma's file name: a whole model of hibari's shape, which is all the folder checks."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest
import requests

from support import REPO_ROOT, pcm_peak, pcm_seconds, start_server, stop_server

HIBARI_DIR = Path(os.environ.get("SPEECHROUTER_HIBARI_DIR") or REPO_ROOT / ".hibari")
HIBARI_MODEL = HIBARI_DIR / "hibari" / "assets" / "hibari.onnx"

pytestmark = pytest.mark.skipif(
    not HIBARI_MODEL.exists(), reason=f"hibari is not installed in {HIBARI_DIR} (scripts/install-hibari)")


def model(server, name: str) -> dict:
    response = requests.get(server.api + f"/models/{name}", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def install(voices: Path, file: str) -> None:
    shutil.copyfile(HIBARI_MODEL, voices / f".{file}.tmp")
    (voices / f".{file}.tmp").rename(voices / file)


def test_a_hibari_voice_in_the_folder_is_served_by_its_registry_name(tmp_path: Path):
    data = tmp_path / "data"
    voices = data / "voices"
    voices.mkdir(parents=True)
    install(voices, "bf_emma.int8.onnx")
    server = start_server(data, startup_timeout=300)
    try:
        hibari = model(server, "local/hibari")
        assert hibari["supported_voices"][:2] == ["heart", "emma"], server.log_tail()
        assert "alloy" in hibari["supported_voices"]
        piper_served = requests.get(server.api + "/models/local/piper", timeout=30)
        if piper_served.status_code == 200:
            assert "emma" not in piper_served.json()["data"]["supported_voices"]
        assert "bf_emma" not in server.log_tail(100_000), "no engine warns about hibari's file"

        text = "The water in the garden was better than the butter."
        spoken = {}
        for voice in ("emma", "heart"):
            response = server.speech({"model": "local/hibari", "input": text, "voice": voice, "response_format": "pcm"})
            assert response.status_code == 200, response.text
            assert 2 < pcm_seconds(response.content) < 6 and pcm_peak(response.content) > 1000
            spoken[voice] = response.content
        # The same model, read with other phonemes (British: no r after vowels, no flapped t).
        assert spoken["emma"] != spoken["heart"]
    finally:
        stop_server(server)


def test_sighup_serves_a_hibari_voice_copied_in_and_drops_one_removed(tmp_path: Path):
    data = tmp_path / "data"
    voices = data / "voices"
    voices.mkdir(parents=True)
    server = start_server(data, startup_timeout=300)
    try:
        assert "kore" in HIBARI_MODEL.parent.joinpath("voices.json").read_text()
        before = server.speech({"model": "local/hibari", "input": "Good morning.", "voice": "kore"})
        assert before.status_code == 400, before.text  # not a voice local/hibari has yet
        install(voices, "af_kore.int8.onnx")
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 120
        while "kore" not in model(server, "local/hibari")["supported_voices"]:
            assert time.monotonic() < deadline, f"kore never served:\n{server.log_tail()}"
            server.assert_alive()
            time.sleep(0.2)
        response = server.speech({"model": "local/hibari", "input": "Good morning.", "voice": "kore",
                                  "response_format": "pcm"})
        assert response.status_code == 200, response.text
        assert pcm_seconds(response.content) > 0.5 and pcm_peak(response.content) > 1000

        (voices / "af_kore.int8.onnx").unlink()
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 120
        while "kore" in model(server, "local/hibari")["supported_voices"]:
            assert time.monotonic() < deadline, f"kore still served:\n{server.log_tail()}"
            time.sleep(0.2)
        server.assert_alive()
    finally:
        stop_server(server)
