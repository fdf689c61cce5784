"""The OpenAPI document: GET /openapi.json serves docs/openapi.json, and schemathesis, driven by
that document, finds nothing the server does that the document does not describe.

schemathesis runs against a live server of its own: every operation, a speech key for the
speech and account routes and a management key for the management routes, all four phases
(examples, coverage, fuzzing, stateful), bounded in examples per operation and in time. Its
checks: no 5xx (the only upstream-made 5xx, 502/503, need upstreams this server has none of),
status codes, content types, headers and bodies as documented, invalid input refused, the
stateful checks on keys. The server must still be alive at the end.

SPEECHROUTER_SCHEMATHESIS_EXAMPLES (default 100) sets the examples per operation and phase,
SPEECHROUTER_SCHEMATHESIS_SEED (default 11) the seed. The run is cut at 10 minutes; on a 2-core
machine the default takes about one.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

from support import REPO_ROOT, Server, binary_path, start_server, stop_server

DOCUMENT = REPO_ROOT / "docs" / "openapi.json"
SCHEMATHESIS = Path(sys.executable).parent / "st"
MANAGEMENT_OPERATIONS = ["getCredits", "listKeys", "createKey", "getKey", "updateKey", "deleteKey"]
# Short input limits keep speech cheap: schemathesis tries the longest input the document
# allows (100,000 characters), which these models then refuse with 400 instead of speaking it.
CONFIGURATION = {"models": {"local/flite": {"context_length": 200}, "local/espeak-ng": {"context_length": 200}}}


def test_the_served_document_is_the_repository_file(server):
    response = requests.get(server.base_url + "/openapi.json", timeout=30)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == "application/json"
    assert response.content == DOCUMENT.read_bytes()
    document = response.json()
    assert document["openapi"].startswith("3.1.")


def test_the_document_covers_the_documented_routes():
    """Every route docs/API.md's overview lists is an operation of the document, and back."""
    operations = documented_operations()
    api = (REPO_ROOT / "docs" / "API.md").read_text(encoding="utf-8")
    overview = api.split("## Overview of the routes", 1)[1].split("\n## ", 1)[0]
    listed = set()
    for line in overview.splitlines():
        if not line.startswith("| `"):
            continue
        method, path = line.split("`")[1].split(" ", 1)
        path = path.split("?", 1)[0]
        listed.add(f"{method} {path}")
        if "also" in line.split("|")[1]:
            listed.add(f"{method} {path.replace('/api/v1/', '/v1/', 1)}")
    assert operations == listed


def create_key(data_dir: Path, name: str, *extra: str) -> str:
    created = subprocess.run(
        [str(binary_path()), "keys", "create", "--name", name, "--data-dir", str(data_dir), *extra],
        capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def schemathesis_configuration(speech_key: str, management_key: str, examples: int, seed: int) -> str:
    management = ", ".join(f'"{operation}"' for operation in MANAGEMENT_OPERATIONS)
    return f"""
# One worker: the server has two cores to itself and schemathesis's own threads would race in
# CPython 3.11's ast module ("AST constructor recursion depth mismatch").
workers = 1
request-timeout = 60
continue-on-failure = true
# The same seed every run, so that CI's figures and failures are reproducible.
seed = {seed}
headers = {{ Authorization = "Bearer {speech_key}" }}

[generation]
max-examples = {examples}
database = "none"

[checks]
enabled = true
# A schema-valid body may still name an unknown model or voice: 400 is the right answer.
positive_data_acceptance.enabled = false
# Needs two users' resources; that one key's generations are hidden from another key is tested
# by AccountRoutesTests.
object_level_authorization.enabled = false

[phases.stateful]
max-steps = 10
# The links are declared in the document (a created key's hash, a speech response's generation
# id); inferring more could aim DELETE /keys/{{hash}} at the management key running the tests.
inference.algorithms = []

[phases.coverage]
extra-data-sources.responses = false

[phases.fuzzing]
extra-data-sources.responses = false

[[operations]]
include-operation-id = [{management}]
headers = {{ Authorization = "Bearer {management_key}" }}
"""


def test_schemathesis_finds_no_failure(tmp_path):
    examples = int(os.environ.get("SPEECHROUTER_SCHEMATHESIS_EXAMPLES", "100"))
    seed = int(os.environ.get("SPEECHROUTER_SCHEMATHESIS_SEED", "11"))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    speech_key = create_key(data_dir, "speech")
    management_key = create_key(data_dir, "admin", "--management")
    configuration_path = tmp_path / "speechrouter.json"
    configuration_path.write_text(json.dumps(CONFIGURATION))
    server = start_server(data_dir, key=speech_key, args=["--config", str(configuration_path)])
    try:
        config_file = tmp_path / "schemathesis.toml"
        config_file.write_text(schemathesis_configuration(speech_key, management_key, examples, seed))
        report = tmp_path / "report.json"
        # The repository's file, which the server serves (the test above): schemathesis leaves
        # out the operation it loaded a document from, and GET /openapi.json is one to test.
        run = subprocess.run(
            [str(SCHEMATHESIS), "--config-file", str(config_file), "--no-color", "run",
             str(DOCUMENT), "--url", server.base_url,
             "--report", "json", "--report-json-path", str(report)],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)
        output = run.stdout + run.stderr
        print(output[-8000:])
        assert report.exists(), f"schemathesis wrote no report (exit {run.returncode}):\n{output[-20000:]}"
        figures = json.loads(report.read_text(encoding="utf-8"))
        cases, operations = figures["test_cases"], figures["operations"]
        failures = cases["unique_failures"]
        print(f"schemathesis {figures['schemathesis_version']}: {cases['generated']} examples tried, "
              f"{operations['tested']} of {operations['total']} operations, {failures} failures, "
              f"{len(figures['errors'])} errors, in {figures['running_time']:.0f} s")
        server.assert_alive()
        assert run.returncode == 0 and failures == 0 and not figures["errors"], output[-20000:]
        assert operations["tested"] == operations["total"] == len(documented_operations())
        # Each key reached its routes: speech was spoken, keys were made and listed (a wrong key
        # would make every case a 401 or 403, which the checks above accept as documented).
        accepted = {operation: sum(phase["accepted"] for phase in phases.values())
                    for operation, phases in figures["valid_rates"].items()}
        for operation in ("POST /api/v1/audio/speech", "POST /v1/audio/speech", "GET /api/v1/key",
                          "POST /api/v1/keys", "GET /api/v1/keys", "GET /api/v1/credits"):
            assert accepted.get(operation, 0) > 0, (operation, accepted)
        assert running_generations(server) == 0
    finally:
        stop_server(server)


def running_generations(server: Server, timeout: float = 10) -> int:
    """Generations still `running` once every response has ended (each records its end just
    after its last byte leaves, so this waits a little for the last ones)."""
    deadline = time.monotonic() + timeout
    while True:
        connection = sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=10)
        try:
            running = connection.execute("SELECT count(*) FROM generations WHERE status = 'running'").fetchone()[0]
        finally:
            connection.close()
        if running == 0 or time.monotonic() > deadline:
            return running
        time.sleep(0.1)


def documented_operations() -> set[str]:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return {f"{method.upper()} {path}" for path, item in document["paths"].items()
            for method in item if method in {"get", "post", "patch", "delete", "put"}}
