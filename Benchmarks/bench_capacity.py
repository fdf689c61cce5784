"""Real-time capacity of the built-in engines, and what happens past it, in one run.

    python3 Benchmarks/bench_capacity.py [--engines flite,piper,hibari] [--overload 100] [--json FILE]
                                         [--ladder 2,4] [--repeat 1] [--characters 1000] [--settle 5]

A quick smoke run, with a debug build: `--ladder 1,2 --overload 8 --characters 200 --settle 1`
(the numbers of the issue come from a release build on a quiet machine, with the defaults).

For each engine (local/flite, local/piper; local/hibari when asked) it starts the server binary (as bench_local.py finds
it) twice on a temporary data dir:

1. Capacity, admission off (`"admission": {"measured": false}`): N concurrent pcm streams of
   1,000 characters each, read by clients that play in real time from their first byte (four
   client processes, their connections open before the requests go, each request timed from its
   sending: `bench_local.streams_from_processes`), for N up a ladder; it stops at the first N where a stream stalls (a byte came after its play-out
   time). Prints the largest N without a stall and its first-byte p50/p95. With `--repeat R`
   each N is tried R times on the same server (the runs' stall counts are printed) and holds
   only if none of them stalled: on this VM one run of a burst says little.
2. Overload, admission on (the default): after 4 streams at once to warm it up (so admission
   works from the speed it measured), `--overload` requests at once. Prints how many were
   admitted and refused (503), stalls among the admitted, the slowest refusal (as the client
   timed it, from its request sent to the response's head read, and as the server's request log
   timed it: head parsed to response sent), the slowest `GET /health` while it ran (polled every
   50 ms from a process of its own; the client's time, and the server's from its log), and the server's RSS idle, at its peak and 5 s after the
   load.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_local import TEXT_PATH, default_binary, start_server, stream_texts, streams_from_processes  # noqa: E402

LADDERS = {
    "flite": {"model": "local/flite", "voice": "slt", "ladder": [16, 32, 48, 64, 80, 96, 128]},
    "piper": {"model": "local/piper", "voice": "joe", "ladder": [4, 8, 12, 16, 20, 24, 32]},
    "hibari": {"model": "local/hibari", "voice": "heart", "ladder": [25, 50, 75, 100, 125]},
}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def poll_health(port: int, stopping, results) -> None:
    """Times `GET /health` every 50 ms until `stopping` is set, then sends the times (seconds).
    Runs in a process of its own: in the process reading the streams it would wait for that
    process's interpreter lock, and time the client instead of the server."""
    times: list[float] = []
    while not stopping.is_set():
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/health")
        connection.getresponse().read()
        connection.close()
        times.append(time.monotonic() - started)
        stopping.wait(0.05)
    results.send(times)


class Watcher(threading.Thread):
    """Polls the server's RSS every 50 ms, and has /health polled from another process, until
    stopped."""

    def __init__(self, port: int, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.health: list[float] = []
        self.peak_rss = 0.0
        self.stopping = threading.Event()
        context = multiprocessing.get_context("spawn")
        self.health_stopping = context.Event()
        self.health_results, sender = context.Pipe(duplex=False)
        self.poller = context.Process(target=poll_health, args=(port, self.health_stopping, sender), daemon=True)
        self.poller.start()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.peak_rss = max(self.peak_rss, rss_mb(self.pid))
            self.stopping.wait(0.05)

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        self.health_stopping.set()
        self.health = self.health_results.recv()
        self.poller.join()


def streams(port: int, key: str, engine: dict, count: int, text: str, characters: int) -> dict:
    texts = stream_texts(text, count, characters)
    outcome = streams_from_processes(port, key, engine["model"], engine["voice"], texts)
    refused = [first for first, _, size in outcome if size < 0]
    admitted = [result for result in outcome if result[2] >= 0]
    firsts = [first for first, _, _ in admitted]
    return {
        "requests": count, "admitted": len(admitted), "refused_503": len(refused),
        "slowest_refusal_s": round(max(refused), 3) if refused else None,
        "stalled": sum(1 for _, stalled, _ in admitted if stalled),
        "first_byte_p50_s": round(percentile(firsts, 0.5), 3),
        "first_byte_p95_s": round(percentile(firsts, 0.95), 3),
    }


def capacity(binary: Path, name: str, text: str, ladder: list[int], characters: int, repeat: int = 1) -> dict:
    engine = LADDERS[name]
    with tempfile.TemporaryDirectory(prefix=f"bench-capacity-{name}-") as scratch:
        config = Path(scratch) / "config.json"
        config.write_text(json.dumps({"admission": {"measured": False}}))
        process, port, key, _ = start_server(binary, Path(scratch), engine["model"], ("--config", str(config)))
        try:
            best, steps = None, []
            for count in ladder or engine["ladder"]:
                runs = []
                for _ in range(repeat):
                    run = streams(port, key, engine, count, text, characters)
                    runs.append(run)
                    print(f"  {engine['model']} {count:>4} streams: stalled {run['stalled']}, "
                          f"first byte p50 {run['first_byte_p50_s']:.3f} s p95 {run['first_byte_p95_s']:.3f} s",
                          file=sys.stderr)
                # The run with the latest first bytes stands for the count; it holds if no run stalled.
                step = dict(max(runs, key=lambda run: run["first_byte_p95_s"]))
                step["stalled_per_run"] = [run["stalled"] for run in runs]
                step["stalled"] = sum(step["stalled_per_run"])
                steps.append(step)
                if step["stalled"]:
                    break
                best = step
            return {"largest_without_stall": best, "ladder": steps}
        finally:
            process.terminate()
            process.wait(timeout=60)


WARM_UP_STREAMS = 4


def overload(binary: Path, name: str, text: str, count: int, characters: int, settle: float) -> dict:
    engine = LADDERS[name]
    with tempfile.TemporaryDirectory(prefix=f"bench-overload-{name}-") as scratch:
        process, port, key, _ = start_server(binary, Path(scratch), engine["model"])
        try:
            time.sleep(1)
            idle = rss_mb(process.pid)
            # A server that has served before: admission counts on the speed it measured, not on
            # its cautious starting guess.
            streams(port, key, engine, WARM_UP_STREAMS, text, characters)
            time.sleep(settle)
            watcher = Watcher(port, process.pid)
            watcher.start()
            result = streams(port, key, engine, count, text, characters)
            watcher.stop()
            time.sleep(settle)
            result.update({
                "health_max_ms": round(max(watcher.health) * 1000, 1), "health_polls": len(watcher.health),
                "rss_idle_mb": round(idle), "rss_peak_mb": round(watcher.peak_rss),
                "rss_after_mb": round(rss_mb(process.pid)),
            })
        finally:
            process.terminate()
            process.wait(timeout=60)
        log = Path(scratch) / "server.log"
        inside = request_durations_ms(log, "audio/speech", 503)
        result["server_slowest_refusal_ms"] = round(max(inside), 1) if inside else None
        health = request_durations_ms(log, "/health", 200)
        result["server_health_max_ms"] = round(max(health), 1) if health else None
        return result


def request_durations_ms(log: Path, path: str, status: int) -> list[float]:
    """The server's own time for each request to `path` answered with `status`, from its request
    log lines (from the request's head parsed to the response's end: what the client's time adds
    to it is the client's, the kernel's and the wait for the server's event loop)."""
    durations = []
    for line in log.read_text(errors="replace").splitlines():
        if path not in line or not re.search(rf'status"?[=:] ?{status}\b', line):
            continue
        found = re.search(r'duration_ms"?[=:] ?([0-9.]+)', line)
        if found:
            durations.append(float(found.group(1)))
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="flite,piper")
    parser.add_argument("--overload", type=int, default=100)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--ladder", default="", help="stream counts to try for every engine (default: each its own)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each ladder count on one server (default 1)")
    parser.add_argument("--characters", type=int, default=1_000, help="characters per stream (default 1000)")
    parser.add_argument("--settle", type=float, default=5, help="seconds after the overload before RSS is read")
    args = parser.parse_args()
    names = [name.strip() for name in args.engines.split(",") if name.strip()]
    if any(name not in LADDERS for name in names) or not 1 <= args.overload <= 1000:
        parser.error(f"--engines from {sorted(LADDERS)}; --overload between 1 and 1000")
    try:
        ladder = [int(count) for count in args.ladder.split(",") if count.strip()]
    except ValueError:
        parser.error("--ladder is stream counts separated by commas, such as 2,4,8")
    if any(not 1 <= count <= 1000 for count in ladder):
        parser.error("--ladder counts between 1 and 1000")
    if not 1 <= args.repeat <= 20:
        parser.error("--repeat between 1 and 20")
    if not 20 <= args.characters <= 10_000 or not 0 <= args.settle <= 600:
        parser.error("--characters between 20 and 10000; --settle between 0 and 600 seconds")
    binary = default_binary()
    text = TEXT_PATH.read_text()
    results: dict[str, object] = {"binary": str(binary)}
    for name in names:
        results[name] = {
            "capacity": capacity(binary, name, text, ladder, args.characters, args.repeat),
            "overload": overload(binary, name, text, args.overload, args.characters, args.settle),
        }

    print(f"binary: {binary}")
    print(f"concurrent real-time pcm streams of {args.characters:,} characters")
    print(f"{'engine':<14}{'no-stall max':>13}{'p50 first':>11}{'p95 first':>11} | {'overload':>9}{'admitted':>9}"
          f"{'stalled':>8}{'503':>5}{'slowest 503':>12}{'(server)':>9}{'/health max':>12}{'(server)':>9}"
          f"{'RSS idle/peak/after MB':>24}")
    for name in names:
        best = results[name]["capacity"]["largest_without_stall"] or {"requests": 0, "first_byte_p50_s": 0,
                                                                       "first_byte_p95_s": 0}
        over = results[name]["overload"]
        slowest = f"{over['slowest_refusal_s'] * 1000:.0f} ms" if over["slowest_refusal_s"] is not None else "-"
        inside = over.get("server_slowest_refusal_ms")
        server = f"{inside:.1f} ms" if inside is not None else "-"
        health = over.get("server_health_max_ms")
        health_inside = f"{health:.1f} ms" if health is not None else "-"
        print(f"{LADDERS[name]['model']:<14}{best['requests']:>13}{best['first_byte_p50_s']:>10.3f}s"
              f"{best['first_byte_p95_s']:>10.3f}s | {over['requests']:>9}{over['admitted']:>9}{over['stalled']:>8}"
              f"{over['refused_503']:>5}{slowest:>12}{server:>9}{over['health_max_ms']:>9.1f} ms{health_inside:>9}"
              f"{over['rss_idle_mb']:>10}/{over['rss_peak_mb']}/{over['rss_after_mb']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
