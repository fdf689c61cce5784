"""local/piper from a copied binary: ONNX Runtime and the voice are found when the server starts, not where the
binary was built, so a binary copied elsewhere speaks with the voice SPEECHROUTER_PIPER_DIR names,
and without a Piper installation it serves the other engines and says why."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests

from support import REPO_ROOT, binary_path, pcm_peak, pcm_seconds, start_server, stop_server

PIPER_DIR = Path(os.environ.get("SPEECHROUTER_PIPER_DIR") or REPO_ROOT / ".piper")
RUNTIME_LIBRARY = PIPER_DIR / "sherpa_onnx" / "lib" / "libonnxruntime.so"

needs_piper = pytest.mark.skipif(
    not RUNTIME_LIBRARY.exists(), reason=f"Piper is not installed in {PIPER_DIR} (scripts/install-piper)")


@pytest.fixture
def relocated_binary(tmp_path: Path) -> Path:
    """The built binary, copied to a folder with no .piper in it or above it."""
    folder = tmp_path / "bin"
    folder.mkdir()
    copy = folder / "speechrouter"
    shutil.copy2(binary_path(), copy)
    for directory in [folder, *folder.parents]:
        assert not (directory / ".piper").exists(), f"{directory} has a .piper, so the test would prove nothing"
    return copy


def environment(**changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SPEECHROUTER_PIPER_DIR"}
    env.update({k: v for k, v in changes.items() if v is not None})
    return env


def model_ids(server) -> list[str]:
    response = requests.get(server.api + "/models", params={"output_modalities": "speech"}, timeout=30)
    assert response.status_code == 200, response.text
    return [model["id"] for model in response.json()["data"]]


@needs_piper
def test_copied_binary_speaks_with_the_piper_it_is_pointed_at(relocated_binary: Path, tmp_path: Path):
    server = start_server(
        tmp_path / "data", binary=relocated_binary,
        env=environment(SPEECHROUTER_PIPER_DIR=str(PIPER_DIR.resolve())), startup_timeout=180)
    try:
        assert "local/piper" in model_ids(server), server.log_tail()
        text = "The old lighthouse keeper remembered the forgotten map before sunrise."
        response = server.speech({"model": "local/piper", "input": text, "response_format": "pcm"})
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "audio/pcm"
        audio = response.content
        # About 4 s of speech at 24 kHz; Piper's audio is scaled to a full-scale peak.
        assert 2.0 < pcm_seconds(audio) < 10.0, pcm_seconds(audio)
        assert pcm_peak(audio) > 10_000, pcm_peak(audio)
        assert "local/piper is not served" not in server.log_tail(20_000)
        server.assert_alive()
    finally:
        stop_server(server)


def test_copied_binary_without_piper_serves_the_others_and_says_why(relocated_binary: Path, tmp_path: Path):
    server = start_server(tmp_path / "data", binary=relocated_binary, env=environment())
    try:
        ids = model_ids(server)
        assert "local/piper" not in ids and {"local/flite", "local/espeak-ng"} <= set(ids), ids
        warnings = [line for line in server.log_tail(20_000).splitlines() if "local/piper is not served" in line]
        assert len(warnings) == 1, server.log_tail()
        response = server.speech({"model": "local/piper", "input": "Hello."})
        assert response.status_code == 400, response.text
        server.assert_alive()
    finally:
        stop_server(server)
