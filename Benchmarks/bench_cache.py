"""Times the speech cache: one miss and hits of the same request, in one run.

    python3 Benchmarks/bench_cache.py [--hits N] [--model local/piper] [--json FILE]

Starts the server binary ($SPEECHROUTER_BIN, else a release build if present, else
.build/debug/speechrouter; see bench_local.py) with a temporary data dir and a fresh key, then
POSTs Benchmarks/text-2000.txt as mp3 with `X-OpenRouter-Cache: true`: the first request is a
miss (synthesized, streamed and stored), the next N are hits. Prints first byte and total of the
miss and the hits' p50/p95, the total speed-up, and checks every hit's bytes equal the miss's.
The issue's goal: hit first byte <= 5 ms p50, hit total >= 100x faster than the miss.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_local import TEXT_PATH, default_binary, start_server


def speak(port: int, key: str, body: dict) -> tuple[float, float, bytes, str]:
    """One request: (first body byte, total, body, X-OpenRouter-Cache-Status)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.monotonic()
    connection.request("POST", "/api/v1/audio/speech", body=json.dumps(body),
                       headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                                "X-OpenRouter-Cache": "true"})
    response = connection.getresponse()
    if response.status != 200:
        sys.exit(f"HTTP {response.status}: {response.read()[:300]!r}")
    chunks = [response.read1(65536)]
    first_byte = time.monotonic() - started
    while chunk := response.read1(65536):
        chunks.append(chunk)
    total = time.monotonic() - started
    status = response.headers.get("X-OpenRouter-Cache-Status", "")
    connection.close()
    return first_byte, total, b"".join(chunks), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hits", type=int, default=20)
    parser.add_argument("--model", default="local/piper")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    if not 1 <= options.hits <= 10_000:
        sys.exit("--hits must be from 1 to 10000")
    binary = default_binary()
    text = TEXT_PATH.read_text()
    body = {"model": options.model, "input": text, "response_format": "mp3"}
    with tempfile.TemporaryDirectory() as scratch:
        process, port, key, _ = start_server(binary, Path(scratch), options.model)
        try:
            miss_first, miss_total, audio, status = speak(port, key, body)
            if status != "MISS":
                sys.exit(f"the first request was not a miss: {status!r}")
            hits = [speak(port, key, body) for _ in range(options.hits)]
        finally:
            process.terminate()
            process.wait()
    if any(hit[3] != "HIT" or hit[2] != audio for hit in hits):
        sys.exit("a hit was not a HIT with the miss's bytes")
    first = sorted(hit[0] for hit in hits)
    total = sorted(hit[1] for hit in hits)

    def p(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))]

    hit_total = statistics.median(total)
    print(f"binary: {binary}")
    print(f"{len(text)} characters on {options.model} as mp3 ({len(audio)} bytes), {options.hits} hits")
    print(f"{'':>6} {'first byte ms':>14} {'total ms':>10}")
    print(f"{'miss':>6} {miss_first * 1000:14.1f} {miss_total * 1000:10.1f}")
    print(f"{'hit p50':>6} {statistics.median(first) * 1000:14.2f} {hit_total * 1000:10.2f}")
    print(f"{'hit p95':>6} {p(first, 0.95) * 1000:14.2f} {p(total, 0.95) * 1000:10.2f}")
    print(f"hit total is {miss_total / hit_total:.0f}x faster than the miss")
    if options.json:
        options.json.write_text(json.dumps({
            "model": options.model, "characters": len(text), "bytes": len(audio),
            "miss": {"first_byte": miss_first, "total": miss_total},
            "hit": {"first_byte_p50": statistics.median(first), "first_byte_p95": p(first, 0.95),
                    "total_p50": hit_total, "total_p95": p(total, 0.95)},
        }, indent=2))


if __name__ == "__main__":
    main()
