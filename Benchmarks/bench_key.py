"""`GET /api/v1/key` on a database holding many generations.

Fills a fresh SQLite data directory with ROWS generation rows (default 1,000,000) of one key,
spread over the last 30 days, by direct inserts into the server's own schema (made by
`speechrouter keys create`), starts `speechrouter serve` on it and times GET /api/v1/key on one
keep-alive connection: p50 and p95 of REQUESTS requests after a warm-up. The answer's
`usage_daily`, `usage_weekly` and `usage_monthly` are checked against sums computed here.

The inserts bypass the server, so the usage counters a charge keeps (table `key_usage`, where
the schema has it) are filled here as the migration that made the table fills them.

    python3 Benchmarks/bench_key.py              # SPEECHROUTER_BIN picks the binary
    ROWS=500000 REQUESTS=200 python3 Benchmarks/bench_key.py
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench_gateway import binary, free_port

ROWS = int(os.environ.get("ROWS", "1000000"))
REQUESTS = int(os.environ.get("REQUESTS", "200"))


def period_starts(now: datetime) -> dict[str, float]:
    """00:00 UTC of the day, of the ISO week's Monday, of the month's 1st (LimitReset.periodStart)."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {"daily": day.timestamp(), "weekly": (day - timedelta(days=day.weekday())).timestamp(),
            "monthly": day.replace(day=1).timestamp()}


def fill(database: Path, key_hash: str, now: datetime) -> dict[str, int]:
    """Inserts the rows; returns the key's charge per period, in nanodollars."""
    started = time.monotonic()
    random.seed(11)
    end = now.timestamp()
    begin = end - 30 * 86_400
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA synchronous = OFF")

    def rows():
        for index in range(ROWS):
            at = random.uniform(begin, end)
            characters = random.randint(20, 2_000)
            cost = characters * 1_000
            yield (f"gen-tts-{int(at)}-bench{index:08d}", key_hash, "local/flite", "local", "slt", "mp3", characters,
                   characters, 1_000, cost, cost, at, at + 0.05, at + 1.0, "completed", "bench")

    with connection:
        connection.executemany(
            """INSERT INTO generations (id, key_hash, model, provider, voice, format, characters, spoken_characters,
               price_nanos, reserved_nanos, cost_nanos, started_at, first_byte_at, finished_at, status, instance)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", rows())
        total = connection.execute("SELECT SUM(cost_nanos) FROM generations").fetchone()[0]
        connection.execute("UPDATE api_keys SET used_nanos = ? WHERE hash = ?", (total, key_hash))
        connection.execute("UPDATE account SET used_nanos = ?", (total,))
        expected = {}
        has_counters = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'key_usage'").fetchone() is not None
        for period, start in period_starts(now).items():
            expected[period] = connection.execute(
                "SELECT COALESCE(SUM(cost_nanos), 0) FROM generations WHERE key_hash = ? AND started_at >= ?",
                (key_hash, start)).fetchone()[0]
            if has_counters:
                connection.execute(
                    "INSERT OR REPLACE INTO key_usage (key_hash, period, period_start, used_nanos) VALUES (?, ?, ?, ?)",
                    (key_hash, period, start, expected[period]))
    connection.execute("ANALYZE")
    connection.close()
    print(f"{ROWS:,} generation rows in {time.monotonic() - started:.1f} s"
          f" ({'with' if has_counters else 'no'} key_usage counters)")
    return expected


def main() -> None:
    exe = binary()
    with tempfile.TemporaryDirectory(prefix="bench-key-") as work:
        data = Path(work)
        key = subprocess.run([str(exe), "keys", "create", "--name", "bench", "--data-dir", str(data)],
                             capture_output=True, text=True, check=True).stdout.strip()
        database = data / "speechrouter.sqlite"
        key_hash = sqlite3.connect(database).execute("SELECT hash FROM api_keys").fetchone()[0]
        now = datetime.now(timezone.utc)
        expected = fill(database, key_hash, now)

        port = free_port()
        log = open(data / "server.log", "wb")
        server = subprocess.Popen([str(exe), "serve", "--port", str(port), "--data-dir", str(data)],
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        sys.exit(f"server did not start: {(data / 'server.log').read_text()[-2000:]}")
                    time.sleep(0.2)

            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            headers = {"Authorization": f"Bearer {key}"}

            def get() -> dict:
                connection.request("GET", "/api/v1/key", headers=headers)
                response = connection.getresponse()
                body = response.read()
                assert response.status == 200, body
                return json.loads(body)["data"]

            answer = get()
            for period in ["daily", "weekly", "monthly"]:
                got, want = answer[f"usage_{period}"], expected[period] / 1e9
                assert abs(got - want) <= 1e-9 * max(want, 1), f"usage_{period}: {got} != {want}"
            for _ in range(10):
                get()
            times = []
            for _ in range(REQUESTS):
                started = time.perf_counter()
                get()
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
            print(f"GET /api/v1/key, {ROWS:,} generations, {REQUESTS} requests: "
                  f"p50 {statistics.median(times):.2f} ms, p95 {p95:.2f} ms, max {times[-1]:.2f} ms "
                  f"(usage daily/weekly/monthly {answer['usage_daily']:.2f}/{answer['usage_weekly']:.2f}/"
                  f"{answer['usage_monthly']:.2f} USD, checked)")
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()


if __name__ == "__main__":
    main()
