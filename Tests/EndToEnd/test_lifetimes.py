"""Every generation records exactly one end, whichever way its request goes: a client that
resets before the response head, SIGTERM while streams play, a grace period that runs out."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import struct
import threading
import time

import requests

from support import pcm_peak, pcm_seconds, sentences, text_of_length
from test_upstream_and_accounts import PRICED, Instance, create_key


def serve_with(data_dir, *args: str, config: dict | None = None) -> Instance:
    """An instance started with extra `serve` arguments."""
    instance = Instance(data_dir, config=config)
    instance.process.terminate()
    instance.process.wait()
    instance.args += list(args)
    instance.start()
    return instance


def database_state(data_dir):
    connection = sqlite3.connect(f"file:{data_dir / 'speechrouter.sqlite'}?mode=ro", uri=True, timeout=10)
    try:
        statuses = dict(connection.execute("SELECT status, COUNT(*) FROM generations GROUP BY status").fetchall())
        key_reserved = connection.execute("SELECT COALESCE(SUM(reserved_nanos), 0) FROM api_keys").fetchone()[0]
        account_reserved = connection.execute("SELECT reserved_nanos FROM account").fetchone()[0]
        return statuses, key_reserved, account_reserved
    finally:
        connection.close()


def raw_request(port: int, key: str, body: dict) -> bytes:
    payload = json.dumps(body).encode()
    return (f"POST /api/v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload


def reset_after(port: int, request: bytes, delay: float) -> None:
    """Sends `request`, waits `delay`, and closes with SO_LINGER 0: a TCP reset, not a FIN."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(request)
    time.sleep(delay)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_connections_reset_before_the_head_leave_nothing_running_or_reserved(tmp_path):
    key = create_key(tmp_path, "--limit", "100")
    instance = Instance(tmp_path, config=PRICED)
    try:
        request = raw_request(instance.port, key, {
            "model": "local/flite", "input": text_of_length(2000), "response_format": "pcm"})
        threads = [threading.Thread(target=reset_after, args=(instance.port, request, 0.03)) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        deadline = time.monotonic() + 20
        while True:
            statuses, key_reserved, account_reserved = database_state(tmp_path)
            if statuses.get("running", 0) == 0 and sum(statuses.values()) == 10:
                break
            assert time.monotonic() < deadline, f"still {statuses}, reserved {key_reserved}/{account_reserved}"
            time.sleep(0.1)
        assert statuses == {"cancelled": 10}, statuses
        assert (key_reserved, account_reserved) == (0, 0), "every reservation is released without a restart"

        # Nothing delivered, nothing charged: a reset that lands after a fast first piece was
        # written (it happened once in CI) is charged for that audio alone. Another key can still spend.
        connection = sqlite3.connect(tmp_path / "speechrouter.sqlite")
        rows = connection.execute("SELECT cost_nanos, spoken_characters FROM generations").fetchall()
        connection.close()
        assert all(cost == 0 or spoken > 0 for cost, spoken in rows), rows
        assert sum(1 for cost, _ in rows if cost > 0) <= 2, f"most resets come before the head: {rows}"
        other = create_key(tmp_path, "--limit", "5")
        ok = requests.post(instance.base + "/api/v1/audio/speech", timeout=60,
                           json={"model": "local/flite", "input": text_of_length(2000), "response_format": "mp3"},
                           headers={"Authorization": f"Bearer {other}"})
        assert ok.status_code == 200, ok.text
    finally:
        instance.stop()


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except (ConnectionRefusedError, ConnectionResetError):
        # Reset: the SYN reached the backlog of a listener that closed before accepting it.
        return True


def test_sigterm_lets_streams_in_flight_finish_then_exits_zero(tmp_path):
    key = create_key(tmp_path)
    instance = serve_with(tmp_path, "--shutdown-grace", "300")  # an upper bound: a loaded machine is slow
    text = sentences(40)  # ~140 s of pcm each: more than the socket buffers hold, so still streaming
    body = {"model": "local/flite", "input": text, "response_format": "pcm"}
    headers = {"Authorization": f"Bearer {key}"}
    streams = []
    for _ in range(5):
        response = requests.post(instance.base + "/api/v1/audio/speech", json=body, headers=headers,
                                 stream=True, timeout=120)
        assert response.status_code == 200, response.text
        streams.append((response, response.iter_content(4096)))
    firsts = [next(chunks) for _, chunks in streams]  # all five are playing

    signalled = time.monotonic()
    instance.process.send_signal(signal.SIGTERM)
    statuses, _, _ = database_state(tmp_path)
    assert statuses == {"running": 5}, f"the streams must still be in flight when SIGTERM arrives: {statuses}"
    deadline = time.monotonic() + 5
    while not refused(instance.port):
        assert time.monotonic() < deadline, "new connections are still accepted after SIGTERM"
        time.sleep(0.05)

    audio = [first + b"".join(chunks) for first, (_, chunks) in zip(firsts, streams)]
    for data in audio:
        assert pcm_seconds(data) > 80, f"{pcm_seconds(data):.1f} s of audio for 40 sentences"
        assert pcm_peak(data) > 1000
    # The same text each time: the same length within 1% (Flite's excitation noise is random, and
    # the pause after a sentence pads whatever silence the sentence ended with).
    lengths = [len(data) for data in audio]
    assert max(lengths) <= 1.01 * min(lengths), lengths

    assert instance.process.wait(timeout=60) == 0
    print(f"\nexited {time.monotonic() - signalled:.2f} s after SIGTERM")
    statuses, key_reserved, account_reserved = database_state(tmp_path)
    assert statuses == {"completed": 5}, statuses
    assert (key_reserved, account_reserved) == (0, 0)
    ids = {response.headers["X-Generation-Id"] for response, _ in streams}
    connection = sqlite3.connect(tmp_path / "speechrouter.sqlite")
    rows = connection.execute("SELECT id, spoken_characters, characters FROM generations").fetchall()
    assert {row[0] for row in rows} == ids
    assert all(spoken == characters == len(text) for _, spoken, characters in rows), rows


def test_streams_still_running_when_the_grace_period_ends_are_recorded_cancelled(tmp_path):
    key = create_key(tmp_path, "--limit", "100")
    instance = serve_with(tmp_path, "--shutdown-grace", "1", config=PRICED)
    try:
        response = requests.post(
            instance.base + "/api/v1/audio/speech", stream=True, timeout=60,
            json={"model": "local/flite", "input": sentences(400), "response_format": "pcm"},
            headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200
        chunks = response.iter_content(4096)
        next(chunks)  # then stop reading (but keep the connection): the stream stalls on back-pressure
        signalled = time.monotonic()
        instance.process.send_signal(signal.SIGTERM)
        assert instance.process.wait(timeout=20) == 0
        took = time.monotonic() - signalled
        assert 0.9 <= took < 10, f"exited {took:.2f} s after SIGTERM with a 1 s grace period"
        chunks.close()
        response.close()
        statuses, key_reserved, account_reserved = database_state(tmp_path)
        assert statuses == {"cancelled": 1}, statuses
        assert (key_reserved, account_reserved) == (0, 0)
    finally:
        instance.stop()


def test_serve_on_a_fresh_data_directory_starts_and_stays_up(tmp_path):
    """No key created first: the janitor's first sweep comes after the schema exists."""
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    instance = Instance(fresh)
    try:
        time.sleep(1)
        assert instance.process.poll() is None, (fresh / f"server-{instance.port}.log").read_text()
        assert requests.get(instance.base + "/api/v1/models", timeout=10).status_code == 200
    finally:
        instance.stop()
