"""A loopback stand-in for OpenAI's POST /v1/audio/speech, speaking its real contract
(PROVIDERS.md §3.1): Bearer auth (401 with OpenAI's error JSON otherwise), a JSON body that must
carry model, input and voice (400 otherwise), speed within 0.25-4, and the audio sent back as a
chunked byte stream with Content-Type audio/mpeg (mp3), audio/wav (wav: the pcm behind a RIFF
header stating its rate) or audio/pcm (pcm: s16le, 24 kHz for OpenAI itself); given `encoded`
({"opus": bytes, …}), those formats come back as those bytes with OpenAI's content types
(audio/opus, audio/aac, audio/flac).

OpenAI-compatible servers differ in their pcm: `rate` makes the fake's samples another rate (a
Piper voice's 22,050 Hz), `pcm_content_type` and `pcm_headers` are how it states that rate (or
doesn't), and `wav=False` makes it ignore a request for wav and send its pcm anyway.

Given `sentences`, a fixed list, it speaks each of them found in its input, in the list's order,
as a tone of its own (`sentence_tone`), instead of `pcm`; with `die_after` it dies as a killed
process does once it has spoken that many sentences in all: a body that would go past them breaks
off there (the connection closes with no end chunk), and every connection then closes unanswered.

Run as a script it serves until killed: python fake_openai.py PORT KEY MP3_FILE
"""

from __future__ import annotations

import json
import math
import socket
import subprocess
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


CONTENT_TYPES = {"mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac",
                 "wav": "audio/wav", "pcm": "audio/pcm"}


def wav_file(pcm: bytes, rate: int) -> bytes:
    """A mono 16-bit RIFF/WAVE file of `pcm` at `rate`."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", len(pcm)) + pcm)


def sentence_tone(index: int, rate: int = 24000, seconds: float = 0.3) -> bytes:
    """The `index`th sentence's audio: `seconds` of a (400 + 100 × index) Hz tone, s16le."""
    frequency = 400 + 100 * index
    count = int(rate * seconds)
    return struct.pack(f"<{count}h", *(int(12000 * math.sin(2 * math.pi * frequency * i / rate))
                                       for i in range(count)))


def mp3_file(pcm: bytes, rate: int) -> bytes:
    """`pcm` (s16le mono) as an MP3 file, made by ffmpeg as a server's encoder would."""
    return subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0",
                           "-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3", "pipe:1"],
                          input=pcm, capture_output=True, check=True, timeout=60).stdout


def make_server(port: int, key: str, mp3: bytes, pcm: bytes, *, hold_at: float | None = None,
                release: threading.Event | None = None, rate: int = 24000, pcm_content_type: str = "audio/pcm",
                pcm_headers: dict[str, str] | None = None, wav: bool = True,
                encoded: dict[str, bytes] | None = None, sentences: list[str] | None = None,
                die_after: int | None = None) -> ThreadingHTTPServer:
    """With `hold_at`, the audio stops after that fraction of it until `release` is set, as a
    real upstream's stream waits on synthesis."""
    received: list[dict] = []
    spoken = {"sentences": 0}
    spoken_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if self.path != "/v1/audio/speech":
                return self._json(404, {"error": {"message": f"Invalid URL (POST {self.path})",
                                                  "type": "invalid_request_error", "param": None, "code": None}})
            if self.headers.get("Authorization") != f"Bearer {key}":
                return self._json(401, {"error": {"message": "Incorrect API key provided.",
                                                  "type": "invalid_request_error", "param": None,
                                                  "code": "invalid_api_key"}})
            try:
                body = json.loads(raw)
            except ValueError:
                return self._json(400, {"error": {"message": "We could not parse the JSON body of your request.",
                                                  "type": "invalid_request_error", "param": None, "code": None}})
            received.append({"headers": dict(self.headers), "body": body})
            for field in ("model", "input", "voice"):
                if not isinstance(body.get(field), str) or not body[field]:
                    return self._json(400, {"error": {"message": f"Missing required parameter: '{field}'.",
                                                      "type": "invalid_request_error", "param": field,
                                                      "code": "missing_required_parameter"}})
            speed = body.get("speed", 1.0)
            if not isinstance(speed, (int, float)) or not 0.25 <= speed <= 4.0:
                return self._json(400, {"error": {"message": "speed must be between 0.25 and 4.0",
                                                  "type": "invalid_request_error", "param": "speed", "code": None}})
            fmt = body.get("response_format", "mp3")
            headers = {}
            # How many of its sentences this request may speak before the server dies (all without `die_after`).
            allowed = None
            if sentences is not None:
                spoken_here = [i for i, sentence in enumerate(sentences) if sentence in body["input"]]
                pcm = b"".join(sentence_tone(i, rate) for i in spoken_here)
                with spoken_lock:
                    allowed = len(spoken_here)
                    if die_after is not None:
                        allowed = min(allowed, max(die_after - spoken["sentences"], 0))
                    spoken["sentences"] += allowed
                if allowed == 0 and spoken_here:
                    server.dead.wait(timeout=60)  # the last sentence's body is still being written
                    return
            else:
                pcm = pcm_audio
            if sentences is not None and fmt == "mp3":
                # A real server's MP3 file (ID3 tag and all) of the sentences it may speak.
                audio, content_type = mp3_file(pcm[:len(sentence_tone(0, rate)) * allowed], rate), "audio/mpeg"
            elif encoded and fmt in encoded:
                audio, content_type = encoded[fmt], CONTENT_TYPES[fmt]
            elif fmt == "mp3":
                audio, content_type = mp3, "audio/mpeg"
            elif fmt == "wav" and wav:
                audio, content_type = wav_file(pcm, rate), "audio/wav"
            else:
                audio, content_type, headers = pcm, pcm_content_type, pcm_headers or {}
            end = len(audio)
            if allowed is not None and content_type != "audio/mpeg":  # the header, then the allowed sentences' samples
                end = len(audio) - len(pcm) + len(sentence_tone(0, rate)) * allowed
            cut = allowed is not None and allowed < len(spoken_here)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            held = hold_at is None
            for start in range(0, end, 4096):
                if not held and start >= len(audio) * hold_at:
                    held = True
                    self.wfile.flush()
                    release.wait(timeout=120)
                piece = audio[start:min(start + 4096, end)]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            if end == len(audio) and not cut:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            if die_after is not None and spoken["sentences"] >= die_after:
                server.kill()

    pcm_audio = pcm
    server = FakeServer(("127.0.0.1", port), Handler)
    server.received = received  # type: ignore[attr-defined]
    return server


class FakeServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that can die as a process does. `shutdown()` and `server_close()`
    alone only stop new connections: each kept-alive connection's handler thread goes on serving
    it, so a client holding one (the gateway's connection pool) still gets answers."""

    daemon_threads = True

    def __init__(self, *args, **kwargs):
        self.dead = threading.Event()
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def kill(self) -> None:
        """Stops listening and closes every open connection (the peer sees a FIN, as when the
        process dies): from now on a connection is refused and a kept-alive one is gone."""
        with self.connections_lock:
            if self.dead.is_set():
                return
            self.dead.set()
        self.shutdown()
        self.server_close()
        with self.connections_lock:
            connections = list(self.open_connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # closed by its handler meanwhile


def serve_in_thread(port: int, key: str, mp3: bytes, pcm: bytes, **holding) -> ThreadingHTTPServer:
    server = make_server(port, key, mp3, pcm, **holding)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    port, key, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(path, "rb") as f:
        data = f.read()
    make_server(port, key, data, b"\0\0" * 24000).serve_forever()
