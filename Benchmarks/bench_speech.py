"""Times SpeechRouter against the plain command-line pipeline `flite … && lame …`.

Starts the server binary ($SPEECHROUTER_BIN, else .build/release/speechrouter or
.build-release/release/speechrouter if built, else .build/debug/speechrouter) on a free port with a temporary data dir and a fresh key, then for the
fixed 2,000-character text in Benchmarks/text-2000.txt measures, per engine and format, the time
to first byte and the total time of POST /api/v1/audio/speech (median of N runs, after one
unmeasured warm-up request per engine). It also times `flite -voice slt -f text -o x.wav && lame
x.wav x.mp3` the same number of times. Nothing is built here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "Tests" / "EndToEnd"))

from support import start_server, stop_server  # noqa: E402

TEXT_PATH = REPO_ROOT / "Benchmarks" / "text-2000.txt"
ENGINES = [("local/flite", "slt"), ("local/espeak-ng", "en-us")]
FORMATS = ["mp3", "pcm", "wav"]


def default_binary() -> Path:
    if os.environ.get("SPEECHROUTER_BIN"):
        return Path(os.environ["SPEECHROUTER_BIN"]).resolve()
    for candidate in (REPO_ROOT / ".build" / "release" / "speechrouter",
                      REPO_ROOT / ".build-release" / "release" / "speechrouter"):
        if candidate.exists():
            return candidate
    return REPO_ROOT / ".build" / "debug" / "speechrouter"


def time_request(server, body: dict) -> tuple[float, float, int]:
    """(seconds to first body byte, seconds to last byte, bytes) for one streamed request."""
    started = time.perf_counter()
    response = requests.post(server.api + "/audio/speech", json=body, headers=server.auth(), stream=True,
                             timeout=600)
    if response.status_code != 200:
        raise SystemExit(f"request failed: {response.status_code} {response.text[:300]}")
    first = None
    size = 0
    for chunk in response.iter_content(8192):
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
    total = time.perf_counter() - started
    response.close()
    return first if first is not None else total, total, size


def time_pipeline(text_path: Path, workdir: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["bash", "-c", f"flite -voice slt -f {text_path} -o x.wav && lame x.wav x.mp3"],
                   cwd=workdir, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def audio_seconds(fmt: str, size: int) -> float | None:
    if fmt == "pcm":
        return size / 48_000
    if fmt == "wav":
        return (size - 44) / 48_000
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="measured runs per case (default 5)")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "Benchmarks" / "out" / "bench_speech.json",
                        help="where to write the raw numbers")
    args = parser.parse_args()

    binary = default_binary()
    if not binary.exists():
        raise SystemExit(f"no binary at {binary}: build it first (swift build [-c release]) or set SPEECHROUTER_BIN")
    for tool in ("flite", "lame"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (scripts/install-deps installs it)")
    text = TEXT_PATH.read_text()
    assert len(text) == 2000, f"{TEXT_PATH} has {len(text)} characters, expected 2000"

    os.environ["SPEECHROUTER_BIN"] = str(binary)
    with tempfile.TemporaryDirectory(prefix="speechrouter-bench-") as scratch:
        scratch = Path(scratch)
        server = start_server(scratch / "data")
        try:
            print(f"binary: {binary}")
            print(f"text:   {TEXT_PATH.relative_to(REPO_ROOT)} ({len(text)} characters), "
                  f"{args.runs} measured runs per case, median reported; cores: {os.cpu_count()}")
            results = []
            for model, voice in ENGINES:
                time_request(server, {"model": model, "input": "Warm up.", "voice": voice})  # not measured
                for fmt in FORMATS:
                    body = {"model": model, "input": text, "voice": voice, "response_format": fmt}
                    runs = [time_request(server, body) for _ in range(args.runs)]
                    results.append({
                        "model": model, "voice": voice, "format": fmt,
                        "ttfb_s": statistics.median(r[0] for r in runs),
                        "total_s": statistics.median(r[1] for r in runs),
                        "bytes": runs[-1][2],
                        "runs": [{"ttfb_s": r[0], "total_s": r[1], "bytes": r[2]} for r in runs],
                    })
        finally:
            stop_server(server)

        pipeline_dir = scratch / "pipeline"
        pipeline_dir.mkdir()
        time_pipeline(TEXT_PATH, pipeline_dir)  # warm the page cache, not measured
        pipeline_runs = [time_pipeline(TEXT_PATH, pipeline_dir) for _ in range(args.runs)]
        pipeline_total = statistics.median(pipeline_runs)
        flite_wav = time.perf_counter()
        subprocess.run(["flite", "-voice", "slt", "-f", str(TEXT_PATH), "-o", str(pipeline_dir / "y.wav")],
                       check=True)
        flite_only = time.perf_counter() - flite_wav
        reference_mp3_bytes = (pipeline_dir / "x.mp3").stat().st_size

    print()
    header = f"{'engine':<22} {'voice':<6} {'format':<6} {'first byte (ms)':>16} {'total (ms)':>11} {'bytes':>10} {'audio (s)':>10}"
    print(header)
    print("-" * len(header))
    for r in results:
        seconds = audio_seconds(r["format"], r["bytes"])
        audio = f"{seconds:.1f}" if seconds is not None else "-"
        print(f"{'SpeechRouter ' + r['model'].split('/')[1]:<22} {r['voice']:<6} {r['format']:<6} "
              f"{r['ttfb_s'] * 1000:>16.1f} {r['total_s'] * 1000:>11.1f} {r['bytes']:>10} {audio:>10}")
    print(f"{'flite+lame CLI':<22} {'slt':<6} {'mp3':<6} {'-':>16} {pipeline_total * 1000:>11.1f} "
          f"{reference_mp3_bytes:>10} {'-':>10}")
    print(f"(flite CLI alone, one run, wav only: {flite_only * 1000:.1f} ms)")

    flite_mp3 = next(r for r in results if r["model"] == "local/flite" and r["format"] == "mp3")
    ratio = flite_mp3["total_s"] / pipeline_total
    print()
    print(f"ratio SpeechRouter total (local/flite, slt, mp3) / flite+lame total: "
          f"{flite_mp3['total_s'] * 1000:.1f} ms / {pipeline_total * 1000:.1f} ms = {ratio:.2f}")
    print(f"SpeechRouter first byte (local/flite, slt, mp3): {flite_mp3['ttfb_s'] * 1000:.1f} ms, "
          f"{flite_mp3['ttfb_s'] / pipeline_total * 100:.0f}% of the CLI pipeline's total")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "binary": str(binary), "runs": args.runs, "characters": len(text), "speechrouter": results,
        "flite_lame": {"total_s": pipeline_total, "runs": pipeline_runs}, "ratio_flite_mp3": ratio,
    }, indent=2))
    print(f"raw numbers: {args.json.relative_to(REPO_ROOT) if args.json.is_relative_to(REPO_ROOT) else args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
