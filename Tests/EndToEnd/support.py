"""Helpers shared by the end-to-end tests: starting a server, calling it, inspecting audio,
reading the generations table and the server process's resource use."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]

PCM_RATE = 24_000
PCM_BYTES_PER_SECOND = PCM_RATE * 2  # s16le mono
GENERATION_ID_PATTERN = r"^gen-tts-\d+-\w+$"
OPENAI_VOICES = [
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx",
    "nova", "sage", "shimmer", "verse", "marin", "cedar",
]


def binary_path() -> Path:
    configured = os.environ.get("SPEECHROUTER_BIN")
    path = Path(configured) if configured else REPO_ROOT / ".build" / "debug" / "speechrouter"
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base_url: str  # http://127.0.0.1:PORT
    key: str
    data_dir: Path
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/v1"

    @property
    def database(self) -> Path:
        return self.data_dir / "speechrouter.sqlite"

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def log_tail(self, limit: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return "(no log)"

    def speech(self, body, *, stream: bool = False, headers: dict | None = None,
               path: str = "/api/v1/audio/speech", timeout: float = 300) -> requests.Response:
        """POSTs `body` (a dict is sent as JSON, bytes/str as they are) with this server's key."""
        all_headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        all_headers.update(headers or {})
        data = json.dumps(body) if isinstance(body, (dict, list)) else body
        return requests.post(self.base_url + path, data=data, headers=all_headers,
                             stream=stream, timeout=timeout)

    def assert_alive(self) -> None:
        assert self.process.poll() is None, (
            f"server exited with {self.process.returncode}; log:\n{self.log_tail()}")
        response = requests.get(self.base_url + "/health", timeout=10)
        assert response.status_code == 200, response.text


def start_server(data_dir: Path, *, key: str | None = None, startup_timeout: float = 60,
                 binary: Path | None = None, env: dict[str, str] | None = None,
                 args: list[str] | None = None) -> Server:
    """Runs `binary` (default: binary_path()) in `data_dir`, with `env` (default: this process's)
    and `args` after `serve`'s own."""
    binary = binary or binary_path()
    assert binary.exists(), f"no speechrouter binary at {binary} (set SPEECHROUTER_BIN or build it)"
    data_dir.mkdir(parents=True, exist_ok=True)
    if key is None:
        created = subprocess.run(
            [str(binary), "keys", "create", "--name", "e2e", "--data-dir", str(data_dir)],
            capture_output=True, text=True, timeout=60, env=env)
        assert created.returncode == 0, f"keys create failed: {created.stderr}"
        key = created.stdout.strip()
        assert key.startswith("sk-sr-v1-") and "\n" not in key, f"unexpected key output: {created.stdout!r}"

    port = free_port()
    log_path = data_dir / "server.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [str(binary), "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
         *(args or [])],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=data_dir, env=env)
    log.close()
    server = Server(f"http://127.0.0.1:{port}", key, data_dir, process, log_path)

    deadline = time.monotonic() + startup_timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} during startup:\n{server.log_tail()}")
        try:
            if requests.get(server.base_url + "/health", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            stop_server(server)
            raise RuntimeError(f"server did not answer /health within {startup_timeout} s:\n{server.log_tail()}")
        time.sleep(0.1)


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=15)


# --- errors -------------------------------------------------------------------------------

OPENAI_ERROR_TYPES = {"invalid_request_error", "authentication_error", "insufficient_quota", "permission_error",
                      "not_found_error", "timeout_error", "rate_limit_error", "server_error"}


def assert_error(response: requests.Response, status: int, *, contains: str | list[str] = (),
                 param: str | None = None, error_type: str | None = None) -> dict:
    """Checks OpenRouter's error shape: HTTP status == error.code, JSON body, message content."""
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.text[:500]}")
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == status, body
    assert isinstance(error["message"], str) and error["message"], body
    assert isinstance(error.get("metadata"), dict), body
    assert isinstance(error["metadata"].get("error_type"), str), body
    # OpenAI's fields beside OpenRouter's: its SDK reads e.type and e.param from them.
    assert error.get("type") in OPENAI_ERROR_TYPES, body
    assert error.get("param", "absent") == error["metadata"].get("param"), body
    for fragment in [contains] if isinstance(contains, str) else contains:
        assert fragment in error["message"], f"{fragment!r} not in message {error['message']!r}"
    if param is not None:
        assert error["metadata"].get("param") == param, body
    if error_type is not None:
        assert error["metadata"]["error_type"] == error_type, body
    return error


# --- audio --------------------------------------------------------------------------------

@dataclass
class Probe:
    codec: str
    sample_rate: int
    channels: int
    duration: float          # ffprobe's format duration
    decoded_seconds: float   # samples actually decoded by ffmpeg, at 24 kHz mono


def probe(path: Path | str) -> Probe:
    """ffprobe's view of a file plus a full decode (which must succeed without errors)."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name,sample_rate,channels",
         "-of", "json", str(path)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"ffprobe failed on {path}: {result.stderr}"
    info = json.loads(result.stdout)
    assert info.get("streams"), f"ffprobe found no stream in {path}: {result.stdout}"
    stream = info["streams"][0]
    decoded_bytes = 0
    with tempfile.TemporaryFile() as errors:
        decoder = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(PCM_RATE),
             "-"],
            stdout=subprocess.PIPE, stderr=errors)
        while chunk := decoder.stdout.read(1 << 20):
            decoded_bytes += len(chunk)
        decoder.wait(timeout=600)
        errors.seek(0)
        messages = errors.read().decode(errors="replace")
    assert decoder.returncode == 0, f"ffmpeg could not decode {path}: {messages[-2000:]}"
    assert not messages.strip(), f"ffmpeg reported errors decoding {path}: {messages[-2000:]}"
    return Probe(
        codec=stream.get("codec_name", ""),
        sample_rate=int(stream.get("sample_rate", 0)),
        channels=int(stream.get("channels", 0)),
        duration=float(info.get("format", {}).get("duration", "nan")),
        decoded_seconds=decoded_bytes / PCM_BYTES_PER_SECOND,
    )


def probe_bytes(data: bytes, suffix: str, directory: Path) -> Probe:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"audio-{time.monotonic_ns()}-{os.getpid()}{suffix}"
    path.write_bytes(data)
    return probe(path)


def pcm_seconds(data: bytes) -> float:
    assert len(data) % 2 == 0, f"pcm length {len(data)} is odd"
    return len(data) / PCM_BYTES_PER_SECOND


def pcm_peak(data: bytes) -> int:
    """Largest absolute sample, to tell speech from silence."""
    import array
    samples = array.array("h")
    samples.frombytes(data[: len(data) - len(data) % 2])
    return max((abs(s) for s in samples), default=0)


# --- the generations table ----------------------------------------------------------------

def generation_row(server: Server, generation_id: str) -> dict | None:
    connection = sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=10)
    try:
        connection.row_factory = sqlite3.Row
        row = connection.execute("SELECT * FROM generations WHERE id = ?", (generation_id,)).fetchone()
        return dict(row) if row else None
    finally:
        connection.close()


def wait_for_generation(server: Server, generation_id: str, status: str, timeout: float = 10) -> dict:
    """Polls until the row has `status` (it is written just after the last byte leaves)."""
    deadline = time.monotonic() + timeout
    row = None
    while time.monotonic() < deadline:
        row = generation_row(server, generation_id)
        if row is not None and row["status"] == status:
            return row
        time.sleep(0.1)
    raise AssertionError(f"generation {generation_id} did not reach {status!r} within {timeout} s: {row}")


def assert_completed_row(server: Server, generation_id: str, *, model: str, voice: str, fmt: str,
                         text: str) -> dict:
    row = wait_for_generation(server, generation_id, "completed")
    assert row["model"] == model, row
    assert row["voice"] == voice, row
    assert row["format"] == fmt, row
    assert row["characters"] == len(text), row
    assert row["spoken_characters"] is not None and 0 < row["spoken_characters"] <= len(text), row
    assert row["finished_at"] is not None and row["started_at"] is not None, row
    return row


# --- the server process -------------------------------------------------------------------

def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may contain spaces; fields after the closing parenthesis are fixed.
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, *, window: float = 0.5, threshold: float = 0.05, timeout: float = 60) -> None:
    """Waits until the process uses less than `threshold` CPU seconds over `window`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(window)
        if cpu_seconds(pid) - before < threshold:
            return
    raise AssertionError(f"server process {pid} stayed busy for {timeout} s")


# --- text ---------------------------------------------------------------------------------

_SUBJECTS = ["The quiet river", "A curious engineer", "Our small team", "The old lighthouse keeper",
             "Every morning train", "The patient teacher", "A distant thunderstorm", "The village baker",
             "This careful reviewer", "The northern wind", "A bright yellow kite", "The museum guide"]
_VERBS = ["carried", "described", "repaired", "followed", "remembered", "painted", "measured",
          "announced", "collected", "questioned", "delivered", "explored"]
_OBJECTS = ["seven wooden boxes", "the forgotten map", "a long list of numbers", "the morning news",
            "three silver bells", "an unexpected letter", "the broken clock", "a basket of apples",
            "the winding mountain road", "twelve paper lanterns", "the final chapter", "a tiny garden"]
_ENDINGS = ["before sunrise.", "without saying a word.", "on a rainy Tuesday.", "near the harbour.",
            "while everyone watched.", "for the very first time.", "at exactly half past four.",
            "and then smiled.", "in the middle of winter.", "with remarkable care.",
            "as the bells rang.", "long after midnight."]


def sentence(i: int) -> str:
    """A deterministic, varied English sentence; consecutive i give different sentences."""
    # List lengths 12, 11, 12 and 7 with different strides: the pattern repeats only after 924 sentences.
    return (f"{_SUBJECTS[i % 12]} {_VERBS[(i * 5 + 1) % 11]} {_OBJECTS[(i * 7 + 2) % 12 if i % 2 else (i + 5) % 12]} "
            f"{_ENDINGS[(i * 3 + 1) % 7]}")


def sentences(count: int, start: int = 0) -> str:
    return " ".join(sentence(i) for i in range(start, start + count))


def text_of_length(length: int) -> str:
    """Varied sentences cut to exactly `length` characters (ending in a full stop)."""
    parts, total, i = [], 0, 0
    while total < length:
        s = sentence(i) + (f" Paragraph {i // 12} ends here." if i % 12 == 11 else "")
        parts.append(s)
        total += len(s) + 1
        i += 1
    text = " ".join(parts)[: length - 1].rstrip()
    text = text + "." * (length - len(text))
    assert len(text) == length
    return text
