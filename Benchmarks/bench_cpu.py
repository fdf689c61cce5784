"""CPU, page faults and memory of the server per request, for comparing two builds of one engine.

    python3 Benchmarks/bench_cpu.py BINARY [BINARY ...] [--model local/hibari] [--requests 8]

For each binary in turn (give two, or the same pair twice, to alternate them), starts it on a free
port with a fresh data dir (`bench_local.start_server`), speaks one unmeasured warm-up request,
then N requests of Benchmarks/text-2000.txt as pcm (each with a different last word, so the speech
cache, if on, never answers) and reads the server's own /proc/<pid>/stat before and after: CPU
seconds (user + system) and minor page faults per request, wall time per request, and the RSS
right after the load and again 4 s later (after the idle memory release and heap trim).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench_capacity import rss_mb
from bench_local import TEXT_PATH, speak, start_server


def process_stat(pid: int) -> tuple[int, float]:
    """Minor page faults and CPU seconds (user + system) of process `pid`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return int(fields[7]), ticks / 100


def measure(binary: Path, model: str, requests: int, text: str) -> str:
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as scratch:
        process, port, key, _ = start_server(binary, Path(scratch), model)
        try:
            speak(port, key, {"model": model, "input": text[:300], "response_format": "pcm"})
            faults, cpu = process_stat(process.pid)
            started = time.monotonic()
            for index in range(requests):
                speak(port, key, {"model": model, "input": f"{text} {index}", "response_format": "pcm"})
            wall = time.monotonic() - started
            faults_after, cpu_after = process_stat(process.pid)
            rss_after = rss_mb(process.pid)
            time.sleep(4)
            return (f"{binary}: CPU {(cpu_after - cpu) / requests:.3f} s/request, wall {wall / requests:.3f} s, "
                    f"minor faults {(faults_after - faults) // requests}/request, "
                    f"RSS after {rss_after:.0f} MB, 4 s later {rss_mb(process.pid):.0f} MB")
        finally:
            process.terminate()
            process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binaries", nargs="+", type=Path)
    parser.add_argument("--model", default="local/hibari")
    parser.add_argument("--requests", type=int, default=8)
    args = parser.parse_args()
    if not 1 <= args.requests <= 1000:
        parser.error("--requests between 1 and 1000")
    text = TEXT_PATH.read_text().strip()
    for binary in args.binaries:
        print(measure(binary.resolve(), args.model, args.requests, text), flush=True)


if __name__ == "__main__":
    main()
