"""Routing across three deployments of one model, side by side in one run (issue #17).

Three fake OpenAI-compatible upstreams, each its own process, answer `POST /v1/audio/speech`
with one fixed MP3:
  fast   answers after FAST_FIRST_BYTE (50 ms: a fast speech server's first byte; 0 = at once);
  slow   answers after 300 ms (its first byte);
  flaky  fails 30% of its requests with a 500 for the first half of each run, then hangs every
         request for 20 s and closes without an answer.
16 clients send REQUESTS (2,000) requests in all, one at a time each, through
  - SpeechRouter, once per routing strategy (a fresh instance each, so no health carries over),
  - LiteLLM's proxy with `latency-based-routing`, its retries and its cooldowns (if found),
  - and straight to the fast fake (the floor).
Both gateways get the same upstream timeout (UPSTREAM_TIMEOUT, 2 s) and may retry on another
deployment. Printed: success rate, first-byte p50/p99, and p99 over the fast fake's p99.
Goal: 100% success, p99 first byte ≤ 1.5× the fast fake's, better than LiteLLM on both.

    python3 Benchmarks/bench_routing.py        # SPEECHROUTER_BIN, LITELLM_BIN, REQUESTS optional
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench_gateway import binary, free_port, stop, wait_http

REQUESTS = int(os.environ.get("REQUESTS", "2000"))
CLIENTS = 16
UPSTREAM_TIMEOUT = float(os.environ.get("UPSTREAM_TIMEOUT", "2"))
FAST_FIRST_BYTE = float(os.environ.get("FAST_FIRST_BYTE", "0.05"))
STRATEGIES = os.environ.get("STRATEGIES", "balanced,least-busy,latency").split(",")
MODEL = "bench/fleet"


def fake(kind: str, port: int, mp3_path: str) -> None:
    """Runs one fake upstream until killed: it answers in the `response_format` asked for (mp3,
    wav or raw 24 kHz pcm), as OpenAI does. `POST /phase` with `fail` or `hang` switches the
    flaky one's behaviour."""
    formats = {name: (Path(mp3_path).with_suffix("." + name).read_bytes(), f"audio/{name}")
               for name in ["mp3", "wav", "pcm"]}
    phase = {"now": "fail"}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def setup(self):
            super().setup()
            # The head and the body are written apart: without this, Nagle's algorithm holds the
            # body until the client's delayed ACK, 40 ms later.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/phase":
                phase["now"] = body.decode()
                return self.do_GET()
            if kind == "fast":
                time.sleep(FAST_FIRST_BYTE)
            if kind == "slow":
                time.sleep(0.3)
            if kind == "flaky":
                if phase["now"] == "hang":
                    time.sleep(20)
                    self.close_connection = True
                    return
                if random.random() < 0.3:
                    error = json.dumps({"error": {"message": "upstream trouble", "type": "server_error"}}).encode()
                    self.send_response(500)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    self.wfile.write(error)
                    return
            audio, kind_of = formats.get(json.loads(body).get("response_format", "mp3"), formats["mp3"])
            self.send_response(200)
            self.send_header("Content-Type", kind_of)
            self.send_header("Content-Length", str(len(audio)))
            self.end_headers()
            self.wfile.write(audio)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024  # 16 clients connect at once: the default backlog of 5 drops SYNs (1 s retry)

    server = Server(("127.0.0.1", port), Handler)
    server.serve_forever()


def set_phase(port: int, phase: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("POST", "/phase", body=phase.encode())
    connection.getresponse().read()
    connection.close()


def drive(url: str, body: dict, headers: dict, flaky_port: int) -> dict:
    """REQUESTS requests from CLIENTS threads, each on its own kept-alive connection; the
    flaky fake starts hanging once half of them are done."""
    set_phase(flaky_port, "fail")
    parts = urllib.parse.urlsplit(url)
    host, port, path = parts.hostname, parts.port, parts.path
    payload = json.dumps(body).encode()
    lock = threading.Lock()
    state = {"next": 0, "done": 0, "switched": False}
    first_bytes: list[float] = []
    statuses: dict[int, int] = {}

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        while True:
            with lock:
                if state["next"] >= REQUESTS:
                    break
                state["next"] += 1
            started = time.monotonic()
            try:
                connection.request("POST", path, body=payload, headers={"Content-Type": "application/json", **headers})
                response = connection.getresponse()
                first = response.read(1)
                first_byte = time.monotonic() - started
                rest = response.read()
                status = response.status if response.status != 200 or len(first + rest) > 1000 else -1
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
                status, first_byte = 0, time.monotonic() - started
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    first_bytes.append(first_byte)
                state["done"] += 1
                switch = state["done"] >= REQUESTS // 2 and not state["switched"]
                state["switched"] |= switch
            if switch:
                set_phase(flaky_port, "hang")
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first_bytes.sort()

    def percentile(share: float) -> float:
        return first_bytes[min(len(first_bytes) - 1, int(share * len(first_bytes)))] * 1000 if first_bytes else float("nan")

    return {"ok": statuses.get(200, 0), "statuses": statuses, "p50": percentile(0.50), "p95": percentile(0.95),
            "p99": percentile(0.99), "over 1 s": sum(t > 1 for t in first_bytes),
            "seconds": time.monotonic() - started}


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "fake":
        return fake(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    work = Path(tempfile.mkdtemp(prefix="bench-routing-"))
    processes: list[subprocess.Popen] = []
    try:
        mp3 = work / "speech.mp3"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                        "-ac", "1", "-ar", "24000", "-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3", str(mp3)], check=True)
        for name, muxer in [("wav", "wav"), ("pcm", "s16le")]:
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(mp3), "-f", muxer, "-ac", "1", "-ar", "24000",
                            str(mp3.with_suffix("." + name))], check=True)
        # Listed worst first, so no strategy is helped by the configuration's order.
        ports = {}
        for kind in ["flaky", "slow", "fast"]:
            ports[kind] = free_port()
            processes.append(subprocess.Popen([sys.executable, __file__, "fake", kind, str(ports[kind]), str(mp3)]))
        for port in ports.values():
            wait_http(f"http://127.0.0.1:{port}/")

        body = {"model": MODEL, "input": "Hello! This is a text-to-speech test.", "voice": "alloy",
                "response_format": os.environ.get("FORMAT", "mp3")}
        results: dict[str, dict] = {}
        results["direct (fast fake)"] = drive(f"http://127.0.0.1:{ports['fast']}/v1/audio/speech",
                                              {**body, "model": "tts-1"}, {}, ports["flaky"])

        for strategy in STRATEGIES:
            data = work / f"data-{strategy}"
            key = subprocess.run([str(binary()), "keys", "create", "--data-dir", str(data)], capture_output=True,
                                 text=True, check=True).stdout.strip()
            deployments = [{"provider": "openai", "tag": f"openai/{kind}", "name": kind, "api_key_env": "BENCH_KEY",
                            "model": "tts-1", "base_url": f"http://127.0.0.1:{port}/v1"} for kind, port in ports.items()]
            config = {"models": {MODEL: {"voices": ["alloy"], "deployments": deployments, "routing_strategy": strategy}},
                      "upstream_timeouts": {"connect_seconds": UPSTREAM_TIMEOUT, "first_byte_seconds": UPSTREAM_TIMEOUT}}
            (work / f"config-{strategy}.json").write_text(json.dumps(config))
            port = free_port()
            process = subprocess.Popen(
                [str(binary()), "serve", "--port", str(port), "--data-dir", str(data), "--config",
                 str(work / f"config-{strategy}.json")],
                env={**os.environ, "BENCH_KEY": "sk-bench", "LOG_LEVEL": "error"}, stdout=subprocess.DEVNULL)
            processes.append(process)
            wait_http(f"http://127.0.0.1:{port}/health")
            results[f"SpeechRouter {strategy}"] = drive(f"http://127.0.0.1:{port}/api/v1/audio/speech", body,
                                                        {"Authorization": f"Bearer {key}"}, ports["flaky"])
            process.terminate()
            process.wait(timeout=30)

        litellm = os.environ.get("LITELLM_BIN") or shutil.which("litellm")
        if litellm:
            model_list = "".join(f"""  - model_name: {MODEL}
    litellm_params:
      model: openai/tts-1
      api_base: http://127.0.0.1:{port}/v1
      api_key: sk-bench
      timeout: {UPSTREAM_TIMEOUT}
""" for port in ports.values())
            (work / "litellm.yaml").write_text(f"""model_list:
{model_list}router_settings:
  routing_strategy: latency-based-routing
  num_retries: 2
  timeout: {UPSTREAM_TIMEOUT}
  allowed_fails: 3
  cooldown_time: 5
""")
            port = free_port()
            master = "sk-" + os.urandom(32).hex()
            processes.append(subprocess.Popen(
                [litellm, "--config", str(work / "litellm.yaml"), "--port", str(port), "--host", "127.0.0.1"],
                env={**os.environ, "LITELLM_MASTER_KEY": master, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
                stdout=subprocess.DEVNULL, stderr=open(work / "litellm.log", "wb")))
            wait_http(f"http://127.0.0.1:{port}/health/liveliness", timeout=300)
            url = f"http://127.0.0.1:{port}/v1/audio/speech"
            authorization = {"Authorization": f"Bearer {master}"}
            # Its first requests wait on start-up work: measure it once one answers.
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    connection.request("POST", "/v1/audio/speech", body=json.dumps(body).encode(),
                                       headers={"Content-Type": "application/json", **authorization})
                    if connection.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(1)
            results["LiteLLM latency-based"] = drive(url, body, authorization, ports["flaky"])

        floor = results["direct (fast fake)"]
        print(f"\nRouting benchmark: {REQUESTS} requests from {CLIENTS} clients; deployments flaky (30% 500s, then 20 s hangs from the half), "
              f"slow (300 ms), fast ({FAST_FIRST_BYTE * 1000:g} ms); upstream timeout {UPSTREAM_TIMEOUT:g} s; binary {binary()}")
        print(f"{'target':<24} {'success':>8} {'fb p50':>9} {'fb p95':>9} {'fb p99':>9} {'p99/fast':>9} {'> 1 s':>6} "
              f"{'seconds':>8}  statuses")
        for name, result in results.items():
            print(f"{name:<24} {100 * result['ok'] / REQUESTS:>7.1f}% {result['p50']:>7.1f}ms {result['p95']:>7.1f}ms "
                  f"{result['p99']:>7.1f}ms {result['p99'] / floor['p99']:>8.2f}x {result['over 1 s']:>6} "
                  f"{result['seconds']:>8.1f}  {result['statuses']}")
    finally:
        stop(processes)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
