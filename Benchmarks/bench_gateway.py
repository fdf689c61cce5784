"""Gateway overhead, measured side by side in one run.

A fixed 2-second MP3 is served by nginx as a fake OpenAI `/v1/audio/speech` (nginx is never
the ceiling). The same POST is sent with wrk:
  1. straight to nginx,
  2. through SpeechRouter (`openai/gpt-4o-mini-tts-2025-12-15`, a real key, accounting on),
  3. through the LiteLLM proxy (pip `litellm[proxy]`), if Benchmarks/run-litellm finds it,
at one connection (latency p50/p99: what the gateway adds) and at 16 connections (requests/s).
Bounded: each wrk run lasts DURATION seconds; everything listens on 127.0.0.1 only.

    python3 Benchmarks/bench_gateway.py            # SPEECHROUTER_BIN, LITELLM_BIN optional
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DURATION = int(os.environ.get("DURATION", "10"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary() -> Path:
    if os.environ.get("SPEECHROUTER_BIN"):
        return Path(os.environ["SPEECHROUTER_BIN"])
    for candidate in [ROOT / ".build-release/release/speechrouter", ROOT / ".build/release/speechrouter",
                      ROOT / ".build/debug/speechrouter"]:
        if candidate.exists():
            return candidate
    sys.exit("build speechrouter first (swift build -c release --product speechrouter)")


def wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def stop(processes: list[subprocess.Popen]) -> None:
    """Ends every process started: asked first, killed after 10 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def wrk(url: str, body: dict, headers: dict, connections: int, work: Path) -> dict:
    script = work / f"post-{connections}.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(json.dumps(body))}"]
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    script.write_text("\n".join(lines) + "\n")
    threads = 1 if connections == 1 else 2
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{DURATION}s", "--latency", "--timeout", "30s",
                          "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    def ms(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    # Non-2xx answers are counted, so a fast error is never mistaken for throughput.
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    bad = (int(errors.group(1)) if errors else 0) + (int(timeouts.group(1)) if timeouts else 0)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms("50"), "p99": ms("99"),
            "bad": bad}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    work.chmod(0o755)  # nginx's workers run as another user and must read the fixed mp3
    processes = []
    try:
        # The fake upstream: nginx answering POST /v1/audio/speech with a fixed MP3.
        (work / "v1/audio").mkdir(parents=True)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                        "-ac", "1", "-ar", "24000", "-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3", str(work / "v1/audio/speech")],
                       check=True)
        nginx_port = free_port()
        (work / "nginx.conf").write_text(f"""
worker_processes 1; daemon off; pid {work}/nginx.pid; error_log {work}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; client_body_temp_path {work}/body; keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{nginx_port}; root {work};
    location = /v1/audio/speech {{ default_type audio/mpeg; error_page 405 =200 $uri; }} }} }}
""")
        processes.append(subprocess.Popen(["nginx", "-c", str(work / "nginx.conf")]))
        upstream = f"http://127.0.0.1:{nginx_port}"
        wait_http(upstream + "/v1/audio/speech")

        data = work / "data"
        key = subprocess.run([str(binary()), "keys", "create", "--data-dir", str(data)], capture_output=True,
                             text=True, check=True).stdout.strip()
        env = {**os.environ, "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": upstream + "/v1", "LOG_LEVEL": "warning"}

        def serve(*arguments: str) -> str:
            port = free_port()
            processes.append(subprocess.Popen([str(binary()), "serve", "--port", str(port), "--data-dir", str(data),
                                               *arguments], env=env, stdout=subprocess.DEVNULL))
            wait_http(f"http://127.0.0.1:{port}/health")
            return f"http://127.0.0.1:{port}"

        body = {"model": "openai/gpt-4o-mini-tts-2025-12-15", "input": "Hello! This is a text-to-speech test.",
                "voice": "alloy", "response_format": "mp3"}
        authorization = {"Authorization": f"Bearer {key}"}
        targets = {"direct (nginx)": (upstream + "/v1/audio/speech", {**body, "model": "gpt-4o-mini-tts"}, {}),
                   "SpeechRouter": (serve() + "/api/v1/audio/speech", body, authorization)}

        litellm = os.environ.get("LITELLM_BIN") or shutil.which("litellm")
        if litellm:
            (work / "litellm.yaml").write_text(f"""model_list:
  - model_name: openai/gpt-4o-mini-tts-2025-12-15
    litellm_params:
      model: openai/gpt-4o-mini-tts
      api_base: {upstream}/v1
      api_key: sk-bench
""")
            litellm_port = free_port()
            # LiteLLM refuses to start without a master key; requests then authenticate with it,
            # as SpeechRouter's do with theirs.
            master = "sk-" + os.urandom(32).hex()
            processes.append(subprocess.Popen([litellm, "--config", str(work / "litellm.yaml"), "--port",
                                               str(litellm_port), "--host", "127.0.0.1"],
                                              env={**os.environ, "LITELLM_MASTER_KEY": master, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
                                              stdout=subprocess.DEVNULL, stderr=open(work / "litellm.log", "wb")))
            wait_http(f"http://127.0.0.1:{litellm_port}/health/liveliness", timeout=300)
            targets["LiteLLM proxy"] = (f"http://127.0.0.1:{litellm_port}/v1/audio/speech", body,
                                        {"Authorization": f"Bearer {master}"})
            # Its first requests wait on start-up work (model cost map, routers): measure it once settled.
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                started = time.monotonic()
                request = urllib.request.Request(
                    targets["LiteLLM proxy"][0], data=json.dumps(body).encode(), method="POST",
                    headers={"Content-Type": "application/json", "Authorization": f"Bearer {master}"})
                try:
                    urllib.request.urlopen(request, timeout=30).read()
                    if time.monotonic() - started < 0.5:
                        break
                except OSError:
                    time.sleep(1)

        results = {}
        for name, (url, payload, headers) in targets.items():
            headers = {"Content-Type": "application/json", **headers}
            wrk(url, payload, headers, 1, work)  # warm-up
            results[name] = {"one": wrk(url, payload, headers, 1, work), "many": wrk(url, payload, headers, 16, work)}

        direct = results["direct (nginx)"]
        print(f"\nGateway benchmark ({DURATION} s per run, fixed {(work / 'v1/audio/speech').stat().st_size}-byte mp3, "
              f"binary {binary()})")
        print(f"{'target':<16} {'p50 @1 conn':>12} {'p99 @1 conn':>12} {'req/s @1':>10} {'req/s @16':>10} {'non-200':>8}")
        for name, result in results.items():
            one, many = result["one"], result["many"]
            print(f"{name:<16} {one['p50']:>10.3f}ms {one['p99']:>10.3f}ms {one['rps']:>10.0f} {many['rps']:>10.0f} "
                  f"{one['bad'] + many['bad']:>8}")
        router_result = results["SpeechRouter"]
        print(f"\nSpeechRouter adds {router_result['one']['p50'] - direct['one']['p50']:.3f} ms at p50 and "
              f"{router_result['one']['p99'] - direct['one']['p99']:.3f} ms at p99 (one connection)")
        print(f"SpeechRouter / direct requests/s at 16 connections: {router_result['many']['rps'] / direct['many']['rps']:.2f}")
        if "LiteLLM proxy" in results:
            print(f"SpeechRouter / LiteLLM requests/s at 16 connections: "
                  f"{router_result['many']['rps'] / max(results['LiteLLM proxy']['many']['rps'], 0.01):.1f}x")
    finally:
        stop(processes)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
