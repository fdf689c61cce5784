"""The seed document's cURL and `requests` examples, verbatim but for base URL, key and model."""

from __future__ import annotations

import os
import re
import subprocess

import requests

from support import GENERATION_ID_PATTERN, PCM_RATE, assert_completed_row, probe

SEED_INPUT = "Hello! This is a text-to-speech test."


def test_seed_curl_example(server, workdir):
    env = dict(os.environ, OPENROUTER_API_KEY=server.key)
    headers_file = workdir / "headers.txt"
    command = f"""curl {server.api}/audio/speech \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer $OPENROUTER_API_KEY" \\
  --output output.mp3 \\
  -D {headers_file} \\
  -d '{{
    "model": "local/flite",
    "input": "Hello! This is a text-to-speech test.",
    "voice": "alloy",
    "response_format": "mp3"
  }}'"""
    result = subprocess.run(["bash", "-c", command], cwd=workdir, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr

    head = headers_file.read_text()
    assert re.search(r"^HTTP/1\.1 200", head, re.M), head
    assert re.search(r"^content-type: audio/mpeg\r?$", head, re.M | re.I), head
    match = re.search(r"^x-generation-id: (\S+)\r?$", head, re.M | re.I)
    assert match and re.match(GENERATION_ID_PATTERN, match.group(1)), head

    info = probe(workdir / "output.mp3")
    assert (info.codec, info.sample_rate, info.channels) == ("mp3", PCM_RATE, 1), info
    assert 1.0 <= info.duration <= 6, info
    assert_completed_row(server, match.group(1), model="local/flite", voice="alloy", fmt="mp3", text=SEED_INPUT)


def test_seed_requests_example(server, workdir, monkeypatch):
    API_KEY_REF = server.key
    monkeypatch.chdir(workdir)

    response = requests.post(
      url=f"{server.api}/audio/speech",
      headers={
        "Authorization": f"Bearer {API_KEY_REF}",
        "Content-Type": "application/json"
      },
      json={
        "model": "local/flite",
        "input": "Hello! This is a text-to-speech test.",
        "voice": "alloy",
        "response_format": "mp3"
      }
    )
    response.raise_for_status()

    with open("output.mp3", "wb") as f:
      f.write(response.content)

    generation_id = response.headers.get("X-Generation-Id")
    print(f"Audio saved. Generation ID: {generation_id}")

    assert response.headers["Content-Type"] == "audio/mpeg"
    assert generation_id and re.match(GENERATION_ID_PATTERN, generation_id), generation_id
    info = probe(workdir / "output.mp3")
    assert (info.codec, info.sample_rate, info.channels) == ("mp3", PCM_RATE, 1), info
    assert 1.0 <= info.duration <= 6, info
    assert_completed_row(server, generation_id, model="local/flite", voice="alloy", fmt="mp3", text=SEED_INPUT)


def test_generation_ids_are_unique(server):
    ids = set()
    for _ in range(5):
        response = server.speech({"model": "local/flite", "input": "Hi.", "response_format": "pcm"})
        assert response.status_code == 200, response.text
        ids.add(response.headers["X-Generation-Id"])
    assert len(ids) == 5, ids
