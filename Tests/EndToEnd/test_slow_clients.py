"""Slow and idle clients cannot hold the server: a request head must arrive in time, an idle
kept-alive connection is closed, connections over the cap are refused at once while the
admitted ones are served, and a stream whose reader stopped reading is cut off and charged for
what it delivered."""

from __future__ import annotations

import http.client
import re
import select
import socket
import subprocess
import time

import pytest
import requests

from support import binary_path, sentences
from test_lifetimes import database_state, raw_request
from test_upstream_and_accounts import PRICED, Instance, create_key

HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 4000


class SlowHead:
    """A connection that sends a request head one byte at a time and never finishes it."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setblocking(False)
        self.sent = 0
        self.opened = time.monotonic()
        self.received = b""
        self.closed_at: float | None = None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def close(self) -> None:
        if self.closed_at is None:
            self.closed_at = time.monotonic()

    def send_byte(self) -> None:
        try:
            self.sent += self.sock.send(HEAD[self.sent:self.sent + 1])
        except (BrokenPipeError, ConnectionResetError):
            self.close()
        except BlockingIOError:
            pass

    def read(self) -> None:
        """Takes what the server sent; notes the connection closed when it was."""
        try:
            while data := self.sock.recv(65536):
                self.received += data
            self.close()
        except BlockingIOError:
            pass
        except (ConnectionResetError, BrokenPipeError):
            self.close()

    @property
    def refused(self) -> bool:
        """Answered 503, or closed long before the head timeout (8 s) could have closed it: a
        reset that follows the 503 may discard it unread."""
        return self.received.startswith(b"HTTP/1.1 503") or (
            self.closed_at is not None and self.closed_at - self.opened < 4)


def drip(connections: list[SlowHead], until, bound: float) -> None:
    """Sends each open connection one more head byte every 0.5 s until `until()` or `bound` s."""
    deadline = time.monotonic() + bound
    while not until():
        assert time.monotonic() < deadline, (
            f"{sum(not c.closed for c in connections)} of {len(connections)} slow connections still open, "
            f"{sum(c.refused for c in connections)} refused, after {bound} s")
        for connection in connections:
            if not connection.closed:
                connection.send_byte()
        open_socks = [c.sock for c in connections if not c.closed]
        readable, _, _ = select.select(open_socks, [], [], 0.5) if open_socks else ([], [], [])
        for connection in connections:
            if connection.sock in readable:
                connection.read()


def get_health(connection: http.client.HTTPConnection) -> int:
    connection.request("GET", "/health")
    response = connection.getresponse()
    response.read()
    return response.status


def test_slow_heads_are_closed_and_connections_over_the_cap_refused(tmp_path):
    key = create_key(tmp_path)
    instance = Instance(tmp_path, config={
        "connections": {"max_open": 20, "header_timeout_seconds": 8, "idle_timeout_seconds": 60}})
    try:
        # An admitted client with a kept-alive connection, before the flood.
        steady = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=30)
        assert get_health(steady) == 200

        # All opened well within the head timeout, so no place frees up while they connect.
        slow = [SlowHead(instance.port) for _ in range(60)]
        # Over the cap (20, the steady client included): a 503 and a close right away, while the
        # admitted ones still drip.
        drip(slow, until=lambda: sum(c.refused and c.closed for c in slow) >= 41, bound=30)
        admitted = [c for c in slow if not c.refused]
        assert 1 <= len(admitted) <= 19, f"{len(admitted)} admitted besides the steady client (cap 20)"
        assert all(not c.received for c in admitted)
        # The reset that may follow a refusal can discard part of it: judge the most complete one.
        refusal = max((c.received for c in slow), key=len)
        assert b'"code":503' in refusal.replace(b" ", b"") and b"Too many open connections" in refusal, refusal
        # The admitted client is served while the cap is full.
        assert get_health(steady) == 200

        # The admitted slow heads are closed by the head timeout, whatever they still send.
        drip(slow, until=lambda: all(c.closed for c in slow), bound=30)
        assert all(not c.received for c in admitted), "a timed-out head gets no response, only a close"
        for connection in slow:
            connection.sock.close()

        # Freed places are taken again: a new client is served, audio included.
        assert requests.get(instance.base + "/health", timeout=10).status_code == 200
        speech = requests.post(instance.base + "/api/v1/audio/speech", timeout=60,
                               json={"model": "local/flite", "input": "Still serving.", "response_format": "wav"},
                               headers={"Authorization": f"Bearer {key}"})
        assert speech.status_code == 200 and speech.content[:4] == b"RIFF", speech.text[:200]
        assert get_health(steady) == 200
        steady.close()
    finally:
        instance.stop()


def wait_closed(sock: socket.socket, bound: float) -> bytes:
    """Reads until the server closes the connection; fails if it is still open after `bound` s."""
    sock.settimeout(bound)
    received = b""
    try:
        while data := sock.recv(65536):
            received += data
    except TimeoutError:
        raise AssertionError(f"connection still open after {bound} s") from None
    except ConnectionResetError:
        pass
    return received


def test_idle_kept_alive_connections_and_silent_ones_are_closed(tmp_path):
    create_key(tmp_path)
    instance = Instance(tmp_path, config={"connections": {"header_timeout_seconds": 60, "idle_timeout_seconds": 2}})
    try:
        idle = socket.create_connection(("127.0.0.1", instance.port), timeout=10)
        idle.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        # The one response, then the close once the connection has idled.
        answer = wait_closed(idle, bound=30)
        assert answer.startswith(b"HTTP/1.1 200") and answer.count(b"HTTP/1.1") == 1, answer
        idle.close()

        # A connection that never sends anything is idle from the start.
        silent = socket.create_connection(("127.0.0.1", instance.port), timeout=10)
        assert wait_closed(silent, bound=30) == b""
        silent.close()
    finally:
        instance.stop()


def test_command_line_limits_apply_and_are_range_checked(tmp_path):
    create_key(tmp_path)
    instance = Instance(tmp_path)
    instance.process.terminate()
    instance.process.wait()
    instance.args += ["--header-timeout", "1", "--idle-timeout", "600", "--max-connections", "5", "--write-timeout", "20"]
    instance.start()
    try:
        silent = socket.create_connection(("127.0.0.1", instance.port), timeout=10)
        assert wait_closed(silent, bound=30) == b""
        silent.close()
        assert requests.get(instance.base + "/health", timeout=10).status_code == 200
    finally:
        instance.stop()

    config = tmp_path / "bad.json"
    for args, contents, message in [
        (["--header-timeout", "0"], None, "--header-timeout must be more than 0 and at most 3600 seconds"),
        (["--idle-timeout", "nan"], None, "--idle-timeout must be more than 0"),
        (["--idle-timeout", "1e300"], None, "--idle-timeout must be more than 0 and at most 3600 seconds"),
        (["--write-timeout=-5"], None, "--write-timeout must be more than 0 and at most 3600 seconds"),
        (["--max-connections", "0"], None, "--max-connections must be between 1 and 100000"),
        (["--config", str(config)], '{"connections": {"header_timeout_seconds": -1}}',
         "connections.header_timeout_seconds must be more than 0"),
        (["--config", str(config)], '{"connections": {"max_open": 1e12}}', "connections.max_open must be between 1 and"),
        (["--config", str(config)], '{"connections": {"idle_timeout_seconds": "10"}}',
         "connections.idle_timeout_seconds must be a number"),
    ]:
        if contents is not None:
            config.write_text(contents)
        result = subprocess.run([str(binary_path()), "serve", "--port", "1", "--data-dir", str(tmp_path), *args],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode != 0, (args, result.stdout)
        assert message in result.stderr, (args, result.stderr)


def read_head_and(sock: socket.socket, body_bytes: int) -> tuple[bytes, bytes]:
    """Reads the response head and then at least `body_bytes` of the body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1024)
        assert chunk, f"closed before the head ended: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    while len(body) < body_bytes:
        chunk = sock.recv(1024)
        assert chunk, "closed before the body began"
        body += chunk
    return head, body


def test_a_reader_that_stops_reading_is_cut_off_and_charged_for_what_it_got(tmp_path):
    key = create_key(tmp_path, "--limit", "100")
    instance = Instance(tmp_path, config={**PRICED, "connections": {"write_timeout_seconds": 2}})
    auth = {"Authorization": f"Bearer {key}"}
    text = sentences(400)  # minutes of pcm: far more than any socket buffer holds
    try:
        # A small receive window, so the server's writes back up as soon as the client stops.
        stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.settimeout(60)
        stalled.connect(("127.0.0.1", instance.port))
        stalled.sendall(raw_request(instance.port, key, {"model": "local/flite", "input": text, "response_format": "pcm"}))
        head, body = read_head_and(stalled, 4096)
        assert head.startswith(b"HTTP/1.1 200"), head
        generation = re.search(rb"(?im)^x-generation-id: *(\S+)", head).group(1).decode()

        # The socket stays open and unread; the server gives up writing and ends the generation.
        deadline = time.monotonic() + 60
        while True:
            info = requests.get(instance.base + "/api/v1/generation", params={"id": generation}, headers=auth,
                                timeout=10).json()["data"]
            if info["status"] != "running":
                break
            assert time.monotonic() < deadline, "the generation is still running 60 s after its reader stopped"
            time.sleep(0.2)
        assert info["status"] == "cancelled" and info["cancelled"] is True, info
        full = 0.001 * len(text)
        assert 0 < info["native_tokens_prompt"] < info["tokens_prompt"] == len(text), info
        assert 0 < info["total_cost"] < full, info
        assert info["total_cost"] == pytest.approx(0.001 * info["native_tokens_prompt"]), info
        print(f"\ndelivered {info['native_tokens_prompt']} of {len(text)} characters before the stall,"
              f" charged {info['total_cost']:.3f} of {full:.3f} USD")

        # The reservation is released: what the key has left is its limit less the charge.
        current = requests.get(instance.base + "/api/v1/key", headers=auth, timeout=10).json()["data"]
        assert current["usage"] == pytest.approx(info["total_cost"]), current
        assert current["limit_remaining"] == pytest.approx(100 - info["total_cost"]), current
        statuses, key_reserved, account_reserved = database_state(tmp_path)
        assert statuses == {"cancelled": 1} and (key_reserved, account_reserved) == (0, 0)
        # The stalled connection was closed by the server.
        wait_closed(stalled, bound=30)
        stalled.close()
    finally:
        instance.stop()
