"""Starts one SpeechRouter server for the whole end-to-end session.

The binary comes from $SPEECHROUTER_BIN (default .build/debug/speechrouter under the repository
root); it gets a fresh data directory, a fresh key and a free port on 127.0.0.1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import Server, start_server, stop_server  # noqa: E402


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    data_dir = tmp_path_factory.mktemp("speechrouter-data")
    server = start_server(data_dir)
    try:
        yield server
    finally:
        crashed = server.process.poll()
        stop_server(server)
        if crashed is not None:
            raise RuntimeError(
                f"server had exited ({crashed}) before the session ended; log:\n{server.log_tail()}")


@pytest.fixture(scope="session")
def base_url(server: Server) -> str:
    return server.base_url


@pytest.fixture(scope="session")
def api_key(server: Server) -> str:
    return server.key


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
